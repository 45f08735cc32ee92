import codecs

import pytest

from workers.errors import PermanentPageError
from workers.stages.decode import decode_bytes, looks_like_html, sniff_binary

pytestmark = pytest.mark.unit

TEXT = "Le café où naïve Zoë a mangé des crêpes — “quoted” text, ça coûte 5 €."


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8"])
def test_declared_charset_wins(encoding):
    text, used = decode_bytes(TEXT.encode(encoding), declared_charset=encoding)
    assert text == TEXT


def test_meta_charset_is_read():
    raw = b'<html><head><meta charset="windows-1252"></head><body>' + TEXT.encode("cp1252") + b"</body></html>"
    text, used = decode_bytes(raw)
    assert TEXT in text and used == "cp1252"


def test_latin1_declaration_decodes_cp1252_punctuation():
    raw = '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"><p>“smart” quotes</p>'.encode("cp1252")
    text, _ = decode_bytes(raw)
    assert "“smart”" in text


@pytest.mark.parametrize("declared", ["iso-8859-1", "shift_jis", "windows-1251"])
def test_valid_utf8_wins_over_a_stale_declaration(declared):
    raw = f'<meta charset="{declared}"><p>{TEXT} 東京</p>'.encode("utf-8")
    text, used = decode_bytes(raw, declared_charset=declared)
    assert TEXT in text and "東京" in text and used == "utf-8"


def test_wrong_declaration_falls_back():
    raw = ("<p>" + TEXT + "</p>").encode("utf-8")
    text, used = decode_bytes(raw, declared_charset="ascii-nonsense")
    assert TEXT in text and used == "utf-8"


@pytest.mark.parametrize("encoding,sample", [
    ("shift_jis", "日本語のニュース記事です。東京で会議が開かれました。" * 20),
    ("gb18030", "这是一篇中文新闻文章。会议在北京举行，各方代表出席。" * 20),
])
def test_undeclared_cjk_is_detected(encoding, sample):
    text, _ = decode_bytes(sample.encode(encoding))
    assert text == sample


def test_bom_is_stripped_and_used():
    text, used = decode_bytes(codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"))
    assert text == TEXT and used == "utf-16-le"


def test_broken_utf8_is_replaced_not_fatal():
    raw = ("<p>" + TEXT * 20 + "</p>").encode("utf-8") + b"\xff\xfe\xfa broken"
    text, _ = decode_bytes(raw)
    assert "crêpes" in text or "cr" in text


@pytest.mark.parametrize("raw,kind", [
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "PNG"),
    (b"%PDF-1.7\n%binary", "PDF"),
    (b"\x7fELF\x02\x01\x01" + b"\x00" * 50, "ELF"),
    (bytes(range(256)) * 20, "binary"),
])
def test_binary_is_refused_with_its_kind(raw, kind):
    with pytest.raises(PermanentPageError) as err:
        decode_bytes(raw)
    assert err.value.code == "binary_content" and kind in err.value.reason
    assert sniff_binary(raw)


@pytest.mark.parametrize("raw", [b"", b"   \n\t  "])
def test_empty_is_refused(raw):
    with pytest.raises(PermanentPageError) as err:
        decode_bytes(raw)
    assert err.value.code == "empty"


def test_html_or_text():
    assert looks_like_html("<!DOCTYPE html><html><body><p>x</p></body></html>")
    assert looks_like_html("  <div><p>Some text</p></div>")
    assert not looks_like_html("Just a text dump\nwith lines about a < b and c > d.\n")


def test_utf16_without_a_byte_order_mark_is_text():
    from workers.stages.decode import bomless_utf16, decode_bytes

    text = "Ferry service\n\nOfficials in the harbour town said on Tuesday that the ferry would start."
    for encoding in ("utf-16-le", "utf-16-be"):
        assert bomless_utf16(text.encode(encoding)) == encoding
        assert decode_bytes(text.encode(encoding)) == (text, encoding)
    assert bomless_utf16(b"\x00" * 2048) is None, "NULs in every byte are not UTF-16 text"
    assert bomless_utf16(text.encode("utf-8")) is None


def test_a_byte_order_mark_alone_is_an_empty_page():
    import pytest

    from workers.errors import PermanentPageError
    from workers.stages.decode import decode_bytes

    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xef\xbb\xbf  \n"):
        with pytest.raises(PermanentPageError) as err:
            decode_bytes(bom)
        assert err.value.code == "empty"
