"""The extract stage: every submission in, every paragraph with provenance out.

    batch.py        extract_directory(input_dir, settings) -> ExtractResult; print_summary
    store.py        write_interim / read_interim (corpus/interim/)
    pool.py         worker processes with a per-file time limit and memory cap (worker.py)
    dispatch.py     one file -> RawDocument or a quarantine reason (sniff, bounds, reader)
    sniff.py        the file's type from its first bytes; guards.py: size and zip-bomb checks
    docx.py pdf.py odt.py rtf.py html.py text.py doc.py   one reader per format
    layout.py       PDF reading order (columns); paragraphs.py: lines -> paragraphs (pure)
    clean.py        characters; language.py: langdetect; segment.py: long paragraphs (spaCy)
    contributor.py  manifest and contributor inference; cache.py: per-file JSON cache
    model.py        Block / RawDocument, what readers return and the cache stores
"""
