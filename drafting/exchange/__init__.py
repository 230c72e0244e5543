"""Export of documents (print view, Markdown, Word) and import of new documents from files."""
