"""Furniture noise and article edits on raw HTML, for benches/realpages/run.py.

The page is lexed by a small tokenizer that keeps every byte's offset (comments, doctype, tags,
text, the raw bodies of script/style/textarea/title), with an element tree built by a simplified
version of the HTML tree builder's implied end tags (p, li, dt/dd, td/th, tr, option). Every
change is a splice at known offsets: what is not changed stays byte for byte.

Article or furniture is decided against the corpus' ground-truth text (see `Page.classify`):
  * keys are lowercase \\w+ tokens (after unescaping entities and NFKC), joined by one space;
  * a block (the nearest p, li, td, th, h1-h6, figcaption, blockquote, pre, dd, dt, caption,
    div, section, ...) is *article* when its key is found in the ground truth's key, or when it
    has 4+ tokens and 60%+ of its 3-token shingles are in the ground truth;
  * a text node is *protected* (never touched by noise) when its block is article, or when its
    own key (3+ tokens or 12+ characters) is found in the ground truth;
  * a text node is *editable* (edits are sampled from it) when it is in the body (not in head,
    script, style, noscript, template, title, textarea, select, svg, button), its block's key
    (3+ tokens) or its own key (3+ tokens) is found verbatim in the ground truth, and its text
    occurs once in the page's body text; an edit is kept only if the 4 tokens either side of
    the changed word occur once in the page's body text (no edit of one copy of a passage the
    page holds twice). Hidden elements are not excluded: a page may hold its article in an
    element that script reveals (React's streamed `<div hidden>`), and the ground truth
    decides.
Everything else in the body is furniture. This is an approximation: a ground truth that
paraphrases the page, or furniture that quotes the article, blurs the line (the counts of pages
with no editable text are reported).
"""

import bisect
import html
import random
import re
import unicodedata

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta",
        "param", "source", "track", "wbr", "basefont", "bgsound", "frame"}
RAW = {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"}
NOT_TEXT = {"head", "script", "style", "noscript", "template", "title", "textarea", "select",
            "option", "svg", "math", "iframe", "noembed", "noframes", "xmp", "button"}
BLOCKS = {"p", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption", "blockquote",
          "pre", "dd", "dt", "caption", "div", "section", "article", "main", "aside", "header",
          "footer", "nav", "ul", "ol", "dl", "table", "tr", "tbody", "thead", "tfoot", "figure",
          "form", "body", "html", "details", "summary", "address", "center", "fieldset", "label",
          "legend"}
MENU = {"li", "nav", "header", "footer", "aside", "menu"}
# Start tags that close an open <p> (the tree builder's list, shortened).
CLOSES_P = {"address", "article", "aside", "blockquote", "center", "details", "dialog", "dir",
            "div", "dl", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
            "h4", "h5", "h6", "header", "hgroup", "hr", "main", "menu", "nav", "ol", "p", "pre",
            "section", "summary", "table", "ul", "li", "dd", "dt"}
P_SCOPE = {"applet", "caption", "html", "table", "td", "th", "marquee", "object", "template",
           "button"}

TAG_RE = re.compile(r"""
    <!--.*?(?:-->|\Z)
  | <!\[CDATA\[.*?(?:\]\]>|\Z)
  | <![^>]*>
  | <\?[^>]*>
  | </[a-zA-Z][^>]*>
  | <[a-zA-Z][^\s/>]*(?:[^>"']|"[^"]*"|'[^']*')*>
""", re.S | re.X)
NAME_RE = re.compile(r"</?([a-zA-Z][^\s/>]*)")
ATTR_RE = re.compile(r"""(\s)([^\s=/>"']+)(?:(\s*=\s*)("[^"]*"|'[^']*'|[^\s>"']+))?""")
WORD_RE = re.compile(r"\w+")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# A token to edit in raw text: entities skipped, numbers, words of letters.
EDIT_TOKEN_RE = re.compile(r"&#?[0-9A-Za-z]+;|(\d+)|([^\W\d_]+)")


def key_tokens(text):
    return WORD_RE.findall(unicodedata.normalize("NFKC", text).lower())


class Element:
    __slots__ = ("i", "tag", "start", "start_end", "end", "explicit_end", "parent", "children",
                 "attrs")

    def __init__(self, i, tag, start, start_end, parent, attrs):
        self.i, self.tag, self.start, self.start_end = i, tag, start, start_end
        self.end, self.explicit_end, self.parent, self.children = None, False, parent, []
        self.attrs = attrs


class Text:
    __slots__ = ("start", "end", "parent", "raw", "tokens", "block", "ctx_skip", "hidden",
                 "protected", "editable", "in_body")

    def __init__(self, start, end, parent, raw):
        self.start, self.end, self.parent, self.raw = start, end, parent, raw
        self.tokens = key_tokens(html.unescape(raw))


def _attrs(tag_src):
    out = {}
    for m in ATTR_RE.finditer(tag_src, len(NAME_RE.match(tag_src).group(0))):
        name = m.group(2).lower()
        v = m.group(4)
        if v is None:
            v = ""
        elif v[:1] in "\"'":
            v = v[1:-1]
        out.setdefault(name, v)
    return out


class Page:
    """A lexed page: its elements, text nodes, raw script bodies and start tags, with offsets."""

    def __init__(self, src):
        self.src = src
        self.elements = []
        self.texts = []
        self.raws = []        # (start, end, element) of raw bodies (script, style, ...)
        self.start_tags = []  # (start, end, element or None)
        self.body = None
        self._lex()

    def _new(self, tag, start, start_end, parent, attrs):
        e = Element(len(self.elements), tag, start, start_end, parent, attrs)
        self.elements.append(e)
        if parent is not None:
            parent.children.append(e)
        return e

    def _lex(self):
        s = self.src
        n = len(s)
        root = self._new("#root", 0, 0, None, {})
        stack = [root]
        pos = 0
        text_start = 0

        def flush_text(upto):
            if upto > text_start:
                raw = s[text_start:upto]
                if raw.strip():
                    self.texts.append(Text(text_start, upto, stack[-1], raw))

        def close_to(idx, at):
            while len(stack) > idx:
                e = stack.pop()
                if e.end is None:
                    e.end = at

        def find_open(names, boundary=()):
            for k in range(len(stack) - 1, 0, -1):
                t = stack[k].tag
                if t in names:
                    return k
                if t in boundary:
                    return None
            return None

        while True:
            lt = s.find("<", pos)
            if lt < 0:
                break
            m = TAG_RE.match(s, lt)
            if not m:
                pos = lt + 1
                continue
            tok = m.group(0)
            flush_text(lt)
            pos = m.end()
            text_start = pos
            if tok.startswith("<!") or tok.startswith("<?"):
                continue
            name = NAME_RE.match(tok).group(1).lower()
            if tok.startswith("</"):
                k = find_open({name})
                if k is not None:
                    close_to(k + 1, lt)
                    e = stack.pop()
                    e.end, e.explicit_end = pos, True
                continue
            # Start tag: implied end tags first.
            if name == "li":
                k = find_open({"li"}, {"ul", "ol", "menu"})
                if k is not None:
                    close_to(k, lt)
            elif name in ("dt", "dd"):
                k = find_open({"dt", "dd"}, {"dl"})
                if k is not None:
                    close_to(k, lt)
            elif name in ("td", "th"):
                k = find_open({"td", "th"}, {"tr", "table"})
                if k is not None:
                    close_to(k, lt)
            elif name == "tr":
                k = find_open({"tr"}, {"table", "tbody", "thead", "tfoot"})
                if k is not None:
                    close_to(k, lt)
            elif name == "option":
                k = find_open({"option"}, {"select"})
                if k is not None:
                    close_to(k, lt)
            if name in CLOSES_P:
                k = find_open({"p"}, P_SCOPE)
                if k is not None:
                    close_to(k, lt)
            e = None
            attrs = _attrs(tok)
            self_closing = tok.endswith("/>")
            if name in VOID or (self_closing and name not in RAW):
                e = self._new(name, lt, pos, stack[-1], attrs)
                e.end = pos
            else:
                e = self._new(name, lt, pos, stack[-1], attrs)
                stack.append(e)
                if name == "body" and self.body is None:
                    self.body = e
            self.start_tags.append((lt, pos, e))
            if name in RAW and not self_closing:
                endm = re.compile(r"</" + re.escape(name) + r"[\s/>]", re.I).search(s, pos)
                body_end = endm.start() if endm else n
                if name == "title" or name == "textarea":
                    if s[pos:body_end].strip():
                        self.texts.append(Text(pos, body_end, e, s[pos:body_end]))
                else:
                    self.raws.append((pos, body_end, e))
                close_end = s.find(">", body_end) + 1 if endm else n
                if close_end <= 0:
                    close_end = n
                stack.pop()
                e.end, e.explicit_end = close_end, bool(endm)
                pos = close_end
                text_start = pos
        flush_text(n)
        close_to(1, n)
        root.end = n
        self.texts.sort(key=lambda t: t.start)
        self._starts = [t.start for t in self.texts]

    def texts_in(self, a, b):
        """Text nodes starting in [a, b)."""
        i = bisect.bisect_left(self._starts, a)
        j = bisect.bisect_left(self._starts, b)
        return self.texts[i:j]

    # --- classification -------------------------------------------------------------------

    def ancestors(self, e):
        while e is not None:
            yield e
            e = e.parent

    def classify(self, truth):
        gt = key_tokens(truth)
        self.gt_key = " " + " ".join(gt) + " "
        shingles = set(zip(gt, gt[1:], gt[2:]))
        body = self.body
        block_texts = {}
        for t in self.texts:
            tags = []
            hidden = False
            skip = False
            in_body = False
            block = None
            for a in self.ancestors(t.parent):
                if a.tag in NOT_TEXT:
                    skip = True
                if a is body:
                    in_body = True
                at = a.attrs
                if "hidden" in at or at.get("aria-hidden", "").lower() == "true" or \
                        re.search(r"display\s*:\s*none|visibility\s*:\s*hidden", at.get("style", ""), re.I):
                    hidden = True
                if block is None and a.tag in BLOCKS:
                    block = a
            if body is None:
                in_body = not skip
            t.block, t.ctx_skip, t.hidden, t.in_body = block, skip, hidden, in_body
            if not skip:
                block_texts.setdefault(block.i if block else -1, []).append(t)
        self.block_ntok = {b: sum(len(t.tokens) for t in ts) for b, ts in block_texts.items()}
        article_blocks = set()
        strict_blocks = set()
        for b, ts in block_texts.items():
            toks = [w for t in ts for w in t.tokens]
            if not toks:
                continue
            k = " " + " ".join(toks) + " "
            if k in self.gt_key:
                article_blocks.add(b)
                strict_blocks.add(b)
            elif len(toks) >= 4:
                sh = list(zip(toks, toks[1:], toks[2:]))
                if sh and sum(1 for x in sh if x in shingles) >= 0.6 * len(sh):
                    article_blocks.add(b)
        seen = {}
        for t in self.texts:
            if t.tokens and not t.ctx_skip and t.in_body:
                k = " ".join(t.tokens)
                seen[k] = seen.get(k, 0) + 1
        for t in self.texts:
            b = t.block.i if t.block else -1
            own = " " + " ".join(t.tokens) + " "
            own_found = bool(t.tokens) and own in self.gt_key
            long_enough = len(t.tokens) >= 3 or len(own) >= 14
            t.protected = (not t.ctx_skip and b in article_blocks) or (own_found and long_enough)
            t.editable = (bool(t.tokens) and t.in_body and not t.ctx_skip
                          and ((b in strict_blocks and self.block_ntok.get(b, 0) >= 3)
                               or (own_found and len(t.tokens) >= 3))
                          and seen.get(" ".join(t.tokens), 0) == 1)
        self.article_blocks = article_blocks
        self.body_key = " " + " ".join(w for t in self.texts if t.in_body and not t.ctx_skip
                                       for w in t.tokens) + " "
        ed = [t for t in self.texts if t.editable]
        self.editable_tokens = sum(len(t.tokens) for t in ed)
        # The article's container: the deepest element holding every editable node.
        self.container = None
        if ed:
            chains = [list(self.ancestors(t.parent))[::-1] for t in ed]
            lca = None
            for level in zip(*chains):
                if all(x is level[0] for x in level):
                    lca = level[0]
                else:
                    break
            self.container = lca
        return self

    def furniture_texts(self):
        return [t for t in self.texts if t.in_body and not t.ctx_skip and not t.protected
                and (t.block is None or t.block.i not in self.article_blocks)]

    def path(self, e, depth=4):
        tags = [a.tag for a in self.ancestors(e) if a.tag != "#root"][:depth]
        return ">".join(reversed(tags))


# --- noise -----------------------------------------------------------------------------------

TEASER_WORDS = ("market council storm season record league report city plan school water "
                "price study health travel summer winter museum festival river bridge court "
                "energy family market coach garden island vote album film").split()


def _rand_like(rng, tok):
    if tok.isdigit():
        return _new_number(rng, tok)
    if re.fullmatch(r"[0-9a-f]+", tok) or re.fullmatch(r"[0-9A-F]+", tok):
        hexd = "0123456789abcdef" if tok.lower() == tok else "0123456789ABCDEF"
        r = "".join(rng.choice(hexd) for _ in tok)
        return r if r != tok else tok[:-1] + ("1" if tok[-1] != "1" else "2")
    out = []
    for c in tok:
        if c.isdigit():
            out.append(rng.choice("0123456789"))
        elif "a" <= c <= "z":
            out.append(rng.choice("abcdefghijklmnopqrstuvwxyz"))
        elif "A" <= c <= "Z":
            out.append(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        else:
            out.append(c)
    r = "".join(out)
    return r if r != tok else (tok[:-1] + ("1" if tok[-1] != "1" else "2"))


def _new_number(rng, digits):
    n = len(digits)
    for _ in range(20):
        if n == 1:
            r = str(rng.randrange(10))
        else:
            r = str(rng.randrange(10 ** (n - 1), 10 ** n))
        if r != digits:
            return r
    return digits + "1"


TOKENISH = re.compile(r"[A-Za-z0-9]{8,}")
NUM_RE = re.compile(r"\d+")
# A number standing alone in text (not in "1Password", "skier8390", "20ATM").
STANDALONE_NUM = re.compile(r"(?<![^\W\d_])\d+(?![^\W\d_])")
META_HINT = re.compile(r"date|time|stamp|byline|meta|count|views|share|comment|updated|posted|"
                       r"publish|stats|visitor|online|badge|ago\b", re.I)
_MONTHS = (r"jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|"
           r"june|july|august|september|october|november|december")
VOLATILE_TEXT = re.compile(
    r"\b(?:" + _MONTHS + r")\.?\s+\d{1,2}\b|\b\d{1,2}\.?\s+(?:" + _MONTHS + r")\b"
    r"|\b\d{4}-\d\d-\d\d|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b|\b\d{1,2}:\d\d\b"
    r"|\b\d+\s*(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|mo|"
    r"months?|y|yrs?|years?)\s+ago\b"
    r"|\b(?:updated|posted|published|edited|modified|last seen)\b"
    r"|\d\s*[kKmM]?\+?\s+(?:views?|comments?|likes?|shares?|followers?|replies|reads?|votes?|"
    r"reviews?|ratings?|points?|answers?|subscribers?|members?|watching|online|visitors?|people|"
    r"sold|bought|left)\b"
    r"|\b\d+\s*(?:/|of)\s*\d+\b", re.I)


def _new_figure(rng, digits):
    """A plausible new value: a year moves by a year or two, anything else is redrawn."""
    if len(digits) == 4 and digits[:2] in ("19", "20"):
        return str(int(digits) + rng.choice([-2, -1, 1, 2]))
    return _new_number(rng, digits)


KINDS = ("copyright", "digits", "insert-block", "nonces", "reorder-li", "swap-links")


def noise_spans(page, rng, kinds_wanted=None, volatile_seed=None):
    """One noisy reload: a list of (start, end, replacement, kind) splices, and the kinds.

    Each applicable kind is applied with probability 1/2 (at least two), or those of
    kinds_wanted. The furniture numbers that change (the "digits" kind: up to three short
    nodes that read as a date, a time, a count) are a property of the page, drawn with
    volatile_seed, as on a real site where the same time stamps and counters change on every
    load; their new values, and everything else, are drawn with rng."""
    s = page.src
    spans = []
    kinds = []
    furn = page.furniture_texts()
    furn_ids = set(map(id, furn))

    def block_ntok(t):
        return page.block_ntok.get(t.block.i if t.block else -1, 0)

    def volatile(t):
        """Text that changes between loads on real sites: a date or time, a relative time, a
        count of views, comments, shares..., an "N of M" counter -- or any number in a time
        element or in one whose class or id names a date, byline, count, meta block and the like.
        Not a phone number, an address, "30-day trial" or a list's numbering."""
        if VOLATILE_TEXT.search(html.unescape(t.raw)):
            return True
        for a in page.ancestors(t.parent):
            if a.tag in ("#root", "body", "html"):
                break
            if a.tag == "time" or META_HINT.search(a.attrs.get("class", "") + " " + a.attrs.get("id", "")):
                return True
        return False

    def ok_digits():
        # Short furniture only (a time stamp, a counter, a date line): a long paragraph missing
        # from the ground truth is more likely article text the ground truth left out.
        return [t for t in furn if STANDALONE_NUM.search(t.raw) and len(t.tokens) <= 8
                and block_ntok(t) <= 16 and volatile(t)]

    applicable = {}
    d = ok_digits()
    if d:
        if volatile_seed is not None:
            d = random.Random(volatile_seed).sample(d, min(len(d), 3))
        applicable["digits"] = d
    # Script bodies, not JSON-LD (metadata an extractor may read: its changes are not nonces).
    scripts = [(a, b) for a, b, e in page.raws if e.tag == "script"
               and "ld+json" not in e.attrs.get("type", "").lower()
               and any(_nonce_ok(s, m) for m in TOKENISH.finditer(s, a, b))]
    attr_tags = []
    for a, b, e in page.start_tags:
        if e is None:
            continue
        tag_src = s[a:b]
        if "=" not in tag_src:
            continue
        for m in ATTR_RE.finditer(tag_src, len(NAME_RE.match(tag_src).group(0))):
            name = m.group(2).lower()
            v = m.group(4)
            if v is None:
                continue
            if (name in ("id", "nonce") or name.startswith("data-") or "csrf" in name
                    or "token" in name or (name == "content" and re.search(r"csrf|token|nonce", tag_src, re.I))
                    or (name == "value" and re.search(r"type\s*=\s*[\"']?hidden", tag_src, re.I))) \
                    and NUM_RE.search(v) and "://" not in v and not v.startswith("/") and "%" not in v:
                attr_tags.append((a + m.start(4), a + m.end(4)))
    if scripts or attr_tags:
        applicable["nonces"] = (scripts, attr_tags)
    lists = []
    for e in page.elements:
        if e.tag in ("ul", "ol") and e.explicit_end and page.body and e.start > page.body.start:
            lis = [c for c in e.children if c.tag == "li"]
            if len(lis) >= 2 and all(c.explicit_end for c in lis) and \
                    len(set(s[c.start:c.end] for c in lis)) >= 2 and \
                    all("<a" in s[c.start:c.end].lower() for c in lis):
                inside = page.texts_in(e.start, e.end)
                # Link lists (menus, related links, tags): items of a few words each.
                if inside and not any(t.protected for t in inside) and \
                        all(sum(len(t.tokens) for t in page.texts_in(c.start, c.end)) <= 12 for c in lis):
                    lists.append((e, lis))
    if lists:
        applicable["reorder-li"] = lists
    cr = []
    for t in furn:
        for m in re.finditer(r"(?i)(?:©|&copy;|&#169;|&#xa9;|copyright|\(c\))(?:\s|&nbsp;|[^<\d]){0,20}?((?:19|20)\d\d)(?:\s*(?:-|–|&ndash;|&#8211;)\s*((?:19|20)\d\d))?", t.raw):
            g = 2 if m.group(2) else 1
            cr.append((t.start + m.start(g), t.start + m.end(g), m.group(g)))
    if cr:
        applicable["copyright"] = cr
    links = []
    for e in page.elements:
        if e.tag == "a":
            inside = page.texts_in(e.start_end, e.end or 0)
            # A menu or list item: a link that is its block's whole text, in a list item or in
            # nav, header, footer, aside (not a link in prose, not a byline).
            if len(inside) == 1 and id(inside[0]) in furn_ids and inside[0].tokens and \
                    len(inside[0].tokens) == block_ntok(inside[0]) and \
                    any(a.tag in MENU for a in page.ancestors(e)):
                links.append(inside[0])
    if len(set(" ".join(t.tokens) for t in links)) >= 2:
        applicable["swap-links"] = links
    applicable["insert-block"] = True

    names = sorted(applicable)
    if kinds_wanted is not None:
        chosen = [k for k in names if k in kinds_wanted]
    else:
        chosen = [k for k in names if rng.random() < 0.5]
        while len(chosen) < min(2, len(names)):
            k = rng.choice(names)
            if k not in chosen:
                chosen.append(k)
        chosen.sort()

    for kind in chosen:
        before = len(spans)
        _one_kind(kind, applicable, page, rng, spans, lists)
        for k in range(before, len(spans)):
            spans[k] = spans[k] + (kind,)
    return _dedupe(spans), chosen


def _one_kind(kind, applicable, page, rng, spans, lists):
    s = page.src
    if True:
        if kind == "digits":
            nodes = applicable["digits"]
            if len(nodes) > 3:
                nodes = rng.sample(nodes, rng.randint(1, 3))
            for t in nodes:
                for m in STANDALONE_NUM.finditer(t.raw):
                    if _in_entity(t.raw, m.start()):
                        continue
                    spans.append((t.start + m.start(), t.start + m.end(), _new_figure(rng, m.group(0))))
        elif kind == "nonces":
            scripts, attrs = applicable["nonces"]
            for a, b in scripts:
                for m in TOKENISH.finditer(s, a, b):
                    t = m.group(0)
                    if _nonce_ok(s, m) and rng.random() < 0.7:
                        spans.append((m.start(), m.end(), _rand_like(rng, t)))
            for a, b in attrs:
                v = s[a:b]
                nv = NUM_RE.sub(lambda m: _new_number(rng, m.group(0)), v)
                if nv != v:
                    spans.append((a, b, nv))
        elif kind == "reorder-li":
            for e, lis in rng.sample(lists, min(len(lists), rng.randint(1, 2))):
                order = list(range(len(lis)))
                for _ in range(10):
                    rng.shuffle(order)
                    if order != list(range(len(lis))):
                        break
                pieces = [s[c.start:c.end] for c in lis]
                if [pieces[i] for i in order] == pieces:
                    continue
                out = []
                for k, c in enumerate(lis):
                    out.append(pieces[order[k]])
                    if k + 1 < len(lis):
                        out.append(s[c.end:lis[k + 1].start])
                spans.append((lis[0].start, lis[-1].end, "".join(out)))
        elif kind == "copyright":
            for a, b, y in applicable["copyright"]:
                spans.append((a, b, str(int(y) + rng.choice([-2, -1, 1, 2]))))
        elif kind == "swap-links":
            ls = applicable["swap-links"]
            for _ in range(20):
                x, y = rng.sample(ls, 2)
                if x.tokens != y.tokens:
                    break
            spans.append((x.start, x.end, y.raw))
            spans.append((y.start, y.end, x.raw))
        elif kind == "insert-block":
            spans.append((*[_insert_point(page, rng)] * 2, _block(rng)))


def _nonce_like(t):
    """A token that reads as an id, nonce, hash or time stamp: 8+ hex digits, or 8+ characters
    mixing 3+ digits with letters in no run of 4 (not words: "u2018Godfather"), or 10+ digits."""
    if len(t) < 8:
        return False
    digits = sum(c.isdigit() for c in t)
    if digits >= 10 and digits == len(t):
        return True
    if digits and re.fullmatch(r"[0-9a-f]+|[0-9A-F]+", t):
        return True
    return digits >= 3 and not re.search(r"[A-Za-z]{4}", t) and digits < len(t)


def _nonce_ok(s, m):
    """A nonce-like token standing alone: not the tail of an escape (\\u2018, %3A, &#8217;)."""
    before = s[m.start() - 1:m.start()] if m.start() else ""
    return _nonce_like(m.group(0)) and before not in ("\\", "%", "#", "&")


def _in_entity(raw, i):
    amp = raw.rfind("&", 0, i)
    return amp >= 0 and re.match(r"&#?[0-9A-Za-z]*$", raw[amp:i]) is not None and \
        re.match(r"&#?[0-9A-Za-z]+;", raw[amp:]) is not None


def _insert_point(page, rng):
    s = page.src
    body = page.body
    pts = []
    if page.container is not None and page.container is not body and page.container.tag != "#root":
        for e in page.ancestors(page.container):
            if e is body or e.tag in ("#root", "html"):
                break
            pts.append(e.start)
            if e.explicit_end:
                pts.append(e.end)
    if body is not None:
        pts.append(body.start_end)
        end = s.lower().rfind("</body")
        if end > body.start_end:
            pts.append(end)
    if not pts:
        pts = [0]
    return rng.choice(pts)


def _block(rng):
    n = rng.randrange(1000, 99999)
    words = lambda k: " ".join(rng.choice(TEASER_WORDS) for _ in range(k)).capitalize()
    v = rng.randrange(4)
    if v == 0:
        return (f'<div class="ad-slot" id="ad-{n}"><span class="ad-label">Advertisement</span>'
                f'<a href="/click?id={n}">{words(5)}: save {rng.randrange(10, 60)}% today</a></div>')
    if v == 1:
        items = "".join(f'<li><a href="/story/{rng.randrange(10**6)}">{words(7)}</a></li>'
                        for _ in range(3))
        return f'<aside class="teaser"><h3>More stories</h3><ul>{items}</ul></aside>'
    if v == 2:
        return (f'<div class="promo newsletter"><p>{words(6)}. Get our free newsletter, '
                f'{rng.randrange(2, 9)} stories a day.</p></div>')
    return (f'<div class="sponsored-content"><a href="/partner/{n}"><p>{words(8)}</p>'
            f'<span>Sponsored</span></a></div>')


def _dedupe(spans):
    out = []
    for sp in sorted(spans, key=lambda x: (x[0], x[1])):
        if out and sp[0] < out[-1][1]:
            continue  # overlaps a change already taken (e.g. inside a reordered list)
        if out and sp[0] == sp[1] == out[-1][0] == out[-1][1]:
            continue
        out.append(sp)
    return out


def apply(src, spans):
    out = []
    pos = 0
    for sp in sorted(spans, key=lambda x: (x[0], x[1])):
        a, b, r = sp[0], sp[1], sp[2]
        out.append(src[pos:a])
        out.append(r)
        pos = b
    out.append(src[pos:])
    return "".join(out)


# --- edits -----------------------------------------------------------------------------------

def edit_span(page, rng, vocab):
    """One article edit: (start, end, replacement, info) or None if the page has no editable
    text. The node is drawn in proportion to its tokens, so every part of the article is
    sampled as often as it holds text."""
    ed = [t for t in page.texts if t.editable]
    if not ed:
        return None
    total = sum(len(t.tokens) for t in ed)
    before = {}
    acc = 0
    order = sorted(ed, key=lambda t: t.start)
    for t in order:
        before[id(t)] = acc
        acc += len(t.tokens)
    for _ in range(50):
        x = rng.randrange(total)
        for t in ed:
            x -= len(t.tokens)
            if x < 0:
                break
        cands = [m for m in EDIT_TOKEN_RE.finditer(t.raw)
                 if (m.group(1) or (m.group(2) and (len(m.group(2)) >= 3 or CJK.search(m.group(2)))))]
        if not cands:
            continue
        m = rng.choice(cands)
        if m.group(1):
            old = m.group(1)
            new = _new_number(rng, old)
            kind = "number"
            a, b = m.start(1), m.end(1)
        else:
            word = m.group(2)
            if CJK.search(word):
                idx = [i for i, c in enumerate(word) if CJK.match(c)]
                i = rng.choice(idx)
                pool = [c for c in vocab.get("#cjk", "") if c != word[i]]
                if not pool:
                    continue
                a, b = m.start(2) + i, m.start(2) + i + 1
                old, new, kind = word[i], rng.choice(pool), "cjk-char"
            else:
                new = _replacement(rng, word, vocab)
                if new is None:
                    continue
                old, kind = word, "word"
                a, b = m.start(2), m.end(2)
        # The words around the edit must occur once in the page's text: an edit of one copy of
        # a passage the page holds twice (a teaser, a hidden mobile copy) is no clear edit.
        a0, b0 = m.start(), m.end()
        while a0 > 0 and WORD_RE.match(t.raw[a0 - 1]):
            a0 -= 1
        while b0 < len(t.raw) and WORD_RE.match(t.raw[b0]):
            b0 += 1
        window = (key_tokens(html.unescape(t.raw[:a0]))[-4:] + key_tokens(html.unescape(t.raw[a0:b0]))
                  + key_tokens(html.unescape(t.raw[b0:]))[:4])
        if page.body_key.count(" " + " ".join(window) + " ") != 1:
            continue
        e = t.parent
        block = t.block
        frac = (before[id(t)] + len(key_tokens(html.unescape(t.raw[:a])))) / max(1, total)
        ctx = html.unescape(t.raw[max(0, a - 40):b + 40])
        # The tokens around the edit, before and after it: what an extraction must show to
        # have seen this edit (and not only the furniture noise of the same reload).
        i = len(key_tokens(html.unescape(t.raw[:a0])))
        old_toks = key_tokens(html.unescape(t.raw))
        new_toks = key_tokens(html.unescape(t.raw[:a] + new + t.raw[b:]))
        # The node's first and last tokens are left out unless edited: an extractor may glue
        # them to the next node's text ("lest <code>this</code>" -> "lestthis").
        lo = max(1 if i > 0 else 0, i - 3)
        hi = min(len(new_toks) - 1 if len(new_toks) - 1 > i else len(new_toks), i + 4)
        info = {
            "kind": kind, "old": old, "new": new, "element": e.tag,
            "old_window": " ".join(old_toks[lo:hi]),
            "new_window": " ".join(new_toks[lo:hi]),
            "block": block.tag if block else None, "path": page.path(e),
            "position": round(frac, 3), "context": " ".join(ctx.split()),
        }
        return (t.start + a, t.start + b, new, info)
    return None


def _replacement(rng, word, vocab):
    low = word.lower()
    L = len(word)
    pool = vocab.get("page", {})
    for spread in (0, 1, 2):
        cands = [w for n in range(L - spread, L + spread + 1) for w in pool.get(n, ())
                 if w != low]
        if cands:
            break
    else:
        return None
    w = rng.choice(cands)
    if word.isupper() and L > 1:
        return w.upper()
    if word[0].isupper():
        return w[0].upper() + w[1:]
    return w


def vocabulary(truth):
    """Replacement words from the page's own ground truth (same language), by length."""
    by_len = {}
    cjk = set()
    for w in set(re.findall(r"[^\W\d_]+", truth.lower())):
        if CJK.search(w):
            cjk.update(c for c in w if CJK.match(c))
            continue
        if len(w) >= 3 and w.isalpha():
            by_len.setdefault(len(w), []).append(w)
    for v in by_len.values():
        v.sort()
    return {"page": by_len, "#cjk": "".join(sorted(cjk))}
