"""What is in the upload folder: every file under UPLOAD_DIR, including uploads still waiting in
.incoming (so a leftover there shows), as sorted paths relative to it."""

from pathlib import Path


def stored_files(app):
    folder = Path(app.config["UPLOAD_DIR"])
    if not folder.exists():
        return []
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())
