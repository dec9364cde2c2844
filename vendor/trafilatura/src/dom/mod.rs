// Port of go-trafilatura/internal/etree/

mod query;
mod tree;

pub use ego_tree::NodeId;

use scraper::Node;
pub(crate) use tree::MAX_TREE_DEPTH;

/// A parsed HTML document backed by an ego-tree.
///
/// Wraps `ego_tree::Tree<scraper::Node>` and adds text/tail semantics
/// (from Python's ElementTree / Go's etree package), mutable tree operations,
/// and CSS selector queries.
///
/// NodeId handles are stable as long as the node is not detached.
/// Detached nodes remain in the backing store (they're never freed), so
/// previously captured NodeIds remain valid but the node has no parent.
pub struct Document {
    pub(crate) tree: ego_tree::Tree<Node>,
}

impl Document {
    /// Parse an HTML string into a mutable Document.
    /// Uses html5ever's browser-grade HTML parser (same as scraper).
    pub fn parse(html: &str) -> Self {
        let html_doc = scraper::Html::parse_document(html);
        Self {
            tree: html_doc.tree,
        }
    }

    /// verbatim patch: a document already parsed (and cleaned) by the caller, handed over
    /// without serialising it and parsing it again. Adjacent text nodes must have been merged,
    /// as a parser leaves them (text and tail read one text node each).
    pub fn from_html(html: scraper::Html) -> Self {
        Self { tree: html.tree }
    }

    /// verbatim patch: the tree as a `scraper` document, for a caller to read.
    pub fn into_html(self) -> scraper::Html {
        let mut html = scraper::Html::new_document();
        html.tree = self.tree;
        html
    }

    /// verbatim patch: whether the body (the root, without one) holds only whitespace text:
    /// what `inner_html(body).trim().is_empty()` tells, without serialising it (a no-break
    /// space is written `&nbsp;`, which is not whitespace).
    pub fn body_is_blank(&self) -> bool {
        let body = self.body().unwrap_or_else(|| self.root());
        self.tree.get(body).is_none_or(|node| {
            node.children().all(|child| match child.value() {
                Node::Text(text) => text.chars().all(|c| c.is_whitespace() && c != '\u{a0}'),
                _ => false,
            })
        })
    }

    /// Return the NodeId of the tree root (a Document node, not an Element).
    pub fn root(&self) -> NodeId {
        self.tree.root().id()
    }

    /// Return the NodeId of the `<body>` element, if present.
    pub fn body(&self) -> Option<NodeId> {
        // Walk: root → html → body
        let html_id = self
            .tree
            .root()
            .children()
            .find(|n| matches!(n.value(), Node::Element(e) if e.name.local.as_ref() == "html"))?
            .id();

        self.tree
            .get(html_id)?
            .children()
            .find(|n| matches!(n.value(), Node::Element(e) if e.name.local.as_ref() == "body"))
            .map(|n| n.id())
    }
}
