"""Runs trafilatura over HTML files, in the venv run.py made: reads a JSON list of
[key, path, encoding] on stdin, writes a JSON object key -> extracted text (or null) on stdout.
trafilatura.extract with its defaults (text output, comments and tables included)."""
import json
import sys
from multiprocessing import Pool


def one(job):
    key, path, enc = job
    import trafilatura
    with open(path, "rb") as f:
        data = f.read()
    try:
        return key, trafilatura.extract(data.decode(enc, "replace"))
    except Exception as e:  # a peer's crash is its answer: no text
        return key, None


def main():
    jobs = json.load(sys.stdin)
    procs = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    with Pool(procs, maxtasksperchild=200) as pool:
        out = dict(pool.imap_unordered(one, jobs, chunksize=4))
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
