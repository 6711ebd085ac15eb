"""The bare Flask "hello" app the benchmark compares every page with (served the same way)."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
