"""Tests for indexer.ingest: corpus files -> clean articles.

The seed tests read the five real scraped pages in corpus/; everything else is
built in tmp_path. No test needs the shared data sets.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os
import signal
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer import ingest
from indexer.ingest import filesystem, readers, validate
from indexer.ingest import Article, Problem, SourceFile, article_to_jsonl, discover, parse_txt, \
    read_articles, validate_article

CORPUS = Path(__file__).resolve().parents[2] / "corpus"

# Strings that are page furniture on at least one seed page and must never be article text.
FURNITURE = ["[news_title]", "[news_lang]", "=>", "Array", "Thiết kế bởi", "Điện thoại", "02623.856453",
             "Địa chỉ:", "Website:", "softdaklak", "Fax", "Quay lên trên", "Bài viết mới nhất",
             "ĐOÀN KHỐI CÁC CƠ QUAN", "DOANH NGHIỆP - THƯƠNG HIỆU", "Chia sẻ bài viết", "LƯU Ý: BDO",
             "Gửi file đính kèm", "Đính kèm File", ">>", "[GMT+7]", "Cập nhật:", "dai-hoi-dang",
             # headlines of related articles listed in the PHP dumps of 004
             "Tự hào, phấn khởi và tin tưởng", "Danh sách Thường trực Tỉnh ủy Bình Dương"]

SEEDS = {
    "000_4120920cae5b93dc": dict(
        title="Tiếp tục đổi mới, sáng tạo, nâng cao năng lực lãnh đạo của tổ chức đảng",
        date=None,
        first="Qua 30 năm xây dựng và phát triển, sau 2 lần chia tách",
        ending=["Thứ năm, tiếp tục thực hiện nghiêm và có hiệu quả các nghị quyết", "",
                "Trương Công Thái", "", "Bí thư Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh"],
        present=["Ngày 28/5/1992, Ban Thường vụ Tỉnh ủy ban hành Quyết định số 38-QĐ/TU",
                 "Ảnh: Hoàng Gia"],
        furniture=["ĐOÀN KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP ĐẮKLẮK", "Địa chỉ: 21 Lê Duẩn",
                   "Điện thoại: 02623.856453 - Fax: 02623.810039", "Thiết kế bởi VNPT ĐắkLắk",
                   "Website: http://softdaklak.vn/"]),
    "001_ff60be7de418aa3a": dict(
        title="Đảng bộ Khối cơ quan và doanh nghiệp tỉnh Những kết quả nổi bật trong thực hiện "
              "Chương trình hành động 135",
        date=None,
        first="Thực hiện Chương trình hành động số 135 của Tỉnh ủy",
        ending=["Thời gian tới, Đảng bộ Khối sẽ tiếp tục đổi mới công tác giáo dục chính trị tư tưởng", "",
                "Đức Phương"],
        present=["Đồng chí Đỗ Quang Minh, Bí thư Đảng uỷ Khối kiểm tra, nắm bắt tình hình cơ sở"],
        furniture=["Bài viết mới nhất:"]),
    "002_2645165bad04b17c": dict(
        title="Nhìn lại kết quả công tác tổ chức xây dựng Đảng nhiệm kỳ 2010-2015",
        date="2015-08-04T11:41",
        first="Chi bộ cơ quan Đảng ủy Khối các cơ quan tỉnh tổ chức lễ kết nạp đảng viên.",
        ending=["Phát huy những kết quả đạt được trong nhiệm kỳ qua, Đảng bộ Khối các cơ quan tỉnh", "",
                "Nguyễn Kim Long, Ủy viên Ban Thường vụ,",
                "Trưởng ban Tổ chức Đảng ủy Khối các cơ quan tỉnh"],
        present=["(QBĐT) - Xác định vai trò các tổ chức cơ sở đảng"],
        furniture=["Thứ Ba, 04/08/2015, 11:41 [GMT+7]",
                   ">> Việc học tập và làm theo tấm gương của Bác ngày càng có sức lan tỏa mạnh mẽ"]),
    "003_e5b1d9912573631c": dict(
        title="Đảng bộ Khối Cơ quan - Doanh nghiệp tỉnh: Tạo chuyển biến mới trong học tập và làm theo Bác",
        date=None,
        first="Với tinh thần đổi mới, sáng tạo, sau gần 3 năm triển khai Kết luận số 01-KL/TW",
        ending=["Đồng chí Lưu Xuân Hải, Bí thư Đảng ủy khối, cho biết thêm: Phát huy những kết quả đạt được"],
        present=["Cán bộ Công ty Điện lực Ninh Thuận kiểm tra an toàn kỹ thuật thiết bị điện trước khi đưa vào vận hành."],
        furniture=[]),
    "004_d13a214aa1ab7183": dict(
        title="Đảng bộ khối Các cơ quan và Doanh nghiệp tỉnh: Phát huy tinh thần đoàn kết, dân chủ, "
              "hoàn thành tốt nhiệm vụ chính trị",
        date="2020-07-14T06:55:40",
        first="Hôm nay (14-7), Đại hội đại biểu Đảng bộ khối Các cơ quan và Doanh nghiệp (CCQ&DN) tỉnh",
        ending=["- Xin cảm ơn đồng chí!", "", "\xa0Thực hiện các chương trình đột phá của Tỉnh ủy",
                "Thực hiện Nghị quyết Đại hội Đảng toàn quốc lần thứ XII, Nghị quyết Đại hội Đảng bộ tỉnh lần thứ X,",
                "", "HỒ VĂN (thực hiện)"],
        present=["- Thưa đồng chí, trong nhiệm kỳ qua, Ban Chấp hành Đảng bộ khối CCQ&DN"],
        furniture=["Cập nhật: 14-07-2020 | 06:55:40", "[news_title] => Tự hào, phấn khởi và tin tưởng",
                   "DOANH NGHIỆP - THƯƠNG HIỆU\nQuay lên trên", "Chia sẻ bài viết",
                   "LƯU Ý: BDO sẽ biên tập ý kiến của bạn đọc", "Gửi file đính kèm không quá 10MB"]),
}


def _seed(name: str) -> tuple[str, Article]:
    raw = (CORPUS / f"{name}.txt").read_text(encoding="utf-8")
    return raw, parse_txt(raw, f"{name}.txt")


def _match_line(body_line: str, expected: str) -> bool:
    """An expected ending line is either exact or, for long paragraphs, a prefix."""
    return body_line == expected or (len(expected) >= 40 and body_line.startswith(expected))


# --------------------------------------------------------------------------- the five seed pages

def test_all_seed_pages_are_covered():
    assert sorted(p.stem for p in CORPUS.glob("*.txt")) == sorted(SEEDS)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_title_date_id(name):
    exp = SEEDS[name]
    _, art = _seed(name)
    assert art.id == name
    assert art.relpath == f"{name}.txt"
    assert art.title == exp["title"]
    assert art.date == exp["date"]
    assert art.url is None and art.source is None


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_body_starts_and_ends_with_real_text(name):
    exp = SEEDS[name]
    _, art = _seed(name)
    lines = art.text.split("\n")
    assert lines[0].startswith(exp["first"])
    tail = lines[-len(exp["ending"]):]
    assert len(tail) == len(exp["ending"])
    assert all(_match_line(got, want) for got, want in zip(tail, exp["ending"])), tail
    for s in exp["present"]:
        assert s in art.text


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_furniture_removed(name):
    raw, art = _seed(name)
    for s in SEEDS[name]["furniture"]:
        assert s in raw, "the page really has this furniture"
        assert s not in art.text
    for s in FURNITURE:
        assert s not in art.text, s
    assert art.title not in art.text


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_body_is_unchanged_text(name):
    """Every body line is a line of the page, verbatim and in order; long paragraphs all survive."""
    raw, art = _seed(name)
    raw_lines = raw.split("\n")
    it = iter(raw_lines)
    for line in art.text.split("\n"):
        if line:
            assert any(line == r for r in it), f"not verbatim / out of order: {line[:80]!r}"
    body_lines = set(art.text.split("\n"))
    long_paragraphs = [r for r in raw_lines if len(r) >= 250]
    assert long_paragraphs
    for r in long_paragraphs:
        assert r in body_lines, r[:80]
    assert "\n\n\n" not in art.text and art.text == art.text.strip("\n")


def test_seed_003_has_no_furniture_at_all():
    raw, art = _seed("003_e5b1d9912573631c")
    assert art.text == raw.split("\n", 2)[2].strip("\n")


def test_seed_002_caption_repeated_twice_kept_once():
    raw, art = _seed("002_2645165bad04b17c")
    caption = "Chi bộ cơ quan Đảng ủy Khối các cơ quan tỉnh tổ chức lễ kết nạp đảng viên."
    assert raw.count(caption) == 2
    assert art.text.count(caption) == 1


def test_seed_004_dump_removed_but_nbsp_heading_kept_verbatim():
    raw, art = _seed("004_d13a214aa1ab7183")
    assert raw.count("[news_title]") == 11
    assert "\xa0Thực hiện các chương trình đột phá của Tỉnh ủy\nThực hiện Nghị quyết" in art.text


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_read_through_discover(name, tmp_path):
    (tmp_path / f"{name}.txt").write_bytes((CORPUS / f"{name}.txt").read_bytes())
    files, problems = discover([tmp_path])
    assert problems == []
    got = [a for f in files for a in read_articles(f, problems)]
    assert problems == []
    assert got == [_seed(name)[1]]


# --------------------------------------------------------------------------- furniture rules on other pages

PARA = ("Sáng nay, Ủy ban nhân dân tỉnh tổ chức hội nghị tổng kết công tác năm và triển khai nhiệm vụ "
        "năm tới, với sự tham dự của đại diện các sở, ban, ngành và địa phương trong tỉnh.")


def test_other_site_footer_block_removed():
    raw = "\n".join(["Hội nghị tổng kết năm", "", PARA, "", "Nguyễn Văn An", "",
                     "BÁO ĐIỆN TỬ TỈNH XYZ", "Trụ sở: 12 Trần Phú, TP. Huế", "Email: toasoan@xyz.vn",
                     "Hotline: 0905 000 111", "© 2023 Báo XYZ. Ghi rõ nguồn khi phát hành lại."])
    art = parse_txt(raw, "x.txt")
    assert art.text == f"{PARA}\n\nNguyễn Văn An"


def test_contact_lines_of_an_article_without_a_site_footer_are_kept():
    raw = "\n".join(["Thông báo tuyển sinh", "", PARA, "", "Mọi chi tiết xin liên hệ:",
                     "Địa chỉ: 5 Lê Lợi, TP. Huế", "Điện thoại: 0234 3 822 333"])
    art = parse_txt(raw, "x.txt")
    assert art.text.endswith("Mọi chi tiết xin liên hệ:\nĐịa chỉ: 5 Lê Lợi, TP. Huế\nĐiện thoại: 0234 3 822 333")


def test_all_caps_author_signature_kept_section_header_between_furniture_removed():
    raw = "\n".join(["Tiêu đề", PARA, "THANH HƯƠNG", "Quay lên trên"])
    assert parse_txt(raw, "x.txt").text == f"{PARA}\nTHANH HƯƠNG"
    raw = "\n".join(["Tiêu đề", PARA, "THANH HƯƠNG", "Chia sẻ bài viết", "THỜI SỰ - CHÍNH TRỊ", "Về đầu trang"])
    assert parse_txt(raw, "x.txt").text == f"{PARA}\nTHANH HƯƠNG"


def test_print_r_dump_in_the_middle_single_line_and_multiline_with_odd_titles():
    dump_ml = ("Array\n(\n    [0] => Array\n        (\n            [news_id] => 1\n"
               "            [news_title] => Danh sách (Xếp theo thứ tự A-B-C) (*\n"
               "            [news_desc] => dòng một\ndòng hai của mô tả\n"
               "            [tags] => Array\n                (\n                )\n\n        )\n\n)\n")
    dump_1l = ("Array ( [0] => Array ( [news_lang] => vi [news_title] => Tin (cũ) ) "
               "[1] => Array ( [news_lang] => vi [news_title] => Tin mới ) )")
    raw = f"Tiêu đề\n{PARA}\n{dump_ml}Đoạn giữa bài.\nTrước {dump_1l} sau.\nĐoạn cuối bài."
    art = parse_txt(raw, "x.txt")
    for s in ("Array", "news_", "=>", "Xếp theo", "dòng hai", "Tin (cũ)", "Tin mới"):
        assert s not in art.text, s
    assert art.text == f"{PARA}\nĐoạn giữa bài.\nTrước \n sau.\nĐoạn cuối bài."


def test_the_word_array_in_prose_is_not_a_dump():
    raw = "Học lập trình\nKiểu Array (mảng) trong PHP: hàm print_r in ra [0] và => giữa khóa và giá trị.\nHết."
    assert parse_txt(raw, "x.txt").text == raw.split("\n", 1)[1]


def test_related_link_lists():
    raw = "\n".join(["Tiêu đề", PARA, "Tác giả", "", "Tin liên quan:", "Một tin khác về hội nghị",
                     "Một tin khác nữa", ">> Và một liên kết"])
    assert parse_txt(raw, "x.txt").text == f"{PARA}\nTác giả"
    # a label in the middle of the text goes, the text after it stays; mid-text ">>" lines stay
    raw = "\n".join(["Tiêu đề", PARA, "Tin liên quan", PARA + " Tiếp.", ">> trích dẫn giữa bài", PARA])
    assert parse_txt(raw, "x.txt").text == "\n".join([PARA, PARA + " Tiếp.", ">> trích dẫn giữa bài", PARA])


def test_title_skips_dot_and_date_lines_bom_crlf_and_repeated_title():
    raw = "\ufeff.\r\n\r\nThứ Ba, 04/08/2015, 11:41 [GMT+7]\r\nTiêu đề bài\r\nTiêu đề bài\r\n" + PARA + "\r\n"
    art = parse_txt(raw, "x.txt")
    assert (art.title, art.date, art.text) == ("Tiêu đề bài", "2015-08-04T11:41", PARA)


def test_no_normalisation_inside_lines():
    nfd = unicodedata.normalize("NFD", "Đà Nẵng ký kết hợp tác")
    assert nfd != unicodedata.normalize("NFC", nfd)
    raw = f"Tiêu đề\n{nfd}  \t\nCâu\u00a0có\u2028dấu cách lạ."
    assert parse_txt(raw, "x.txt").text == f"{nfd}  \t\nCâu\u00a0có\u2028dấu cách lạ."


def test_only_adjacent_repeats_collapse():
    raw = "\n".join(["T", "Ảnh: chú thích", "Ảnh: chú thích", "", "Ảnh: chú thích", PARA, "Ảnh: chú thích"])
    assert parse_txt(raw, "x.txt").text == "\n".join(["Ảnh: chú thích", "", PARA, "Ảnh: chú thích"])


@pytest.mark.parametrize("raw", ["", "...\n---\n12 34", "Chỉ có tiêu đề\n\n", "Tiêu đề\nQuay lên trên\nArray ( [0] => x )"])
def test_parse_txt_without_article_raises(raw):
    with pytest.raises(ValueError):
        parse_txt(raw, "x.txt")


@pytest.mark.parametrize("relpath,expected", [("a.txt", "a"), ("a/b.txt", "a--b"), ("x/y/z.TXT", "x--y--z"),
                                              ("a.b.txt", "a.b")])
def test_txt_id_from_relpath(relpath, expected):
    assert parse_txt("Tiêu đề\nNội dung.", relpath).id == expected


# --------------------------------------------------------------------------- publication dates

@pytest.mark.parametrize("line,expected", [
    ("Cập nhật: 14-07-2020 | 06:55:40", "2020-07-14T06:55:40"),
    ("Thứ Ba, 04/08/2015, 11:41 [GMT+7]", "2015-08-04T11:41"),
    ("Thứ hai, 13/7/2020, 08:30 (GMT+7)", "2020-07-13T08:30"),
    ("Chủ nhật, 12/07/2020 - 08:30", "2020-07-12T08:30"),
    ("28/05/2022", "2022-05-28"),
    ("2022-05-28", "2022-05-28"),
    ("2020-07-14 06:55:40", "2020-07-14T06:55:40"),
    ("Đăng lúc: 11h41 ngày 04/08/2015", "2015-08-04T11:41"),
    ("Cập nhật ngày 14 tháng 7 năm 2020", "2020-07-14"),
    ("14/07/2020 11:41 PM", "2020-07-14T23:41"),
    ("12:30:45 14-7-2020", "2020-07-14T12:30:45"),
    ("Ngày đăng: 13/07/2020 | Cập nhật: 14/07/2020 06:55", "2020-07-13"),
    ("Thứ Ba, 04/08/2015 | 11:41 GMT+07:00", "2015-08-04T11:41"),
])
def test_date_line_forms(line, expected):
    art = parse_txt(f"Tiêu đề\n\n{line}\n\n{PARA}", "x.txt")
    assert art.date == expected
    assert art.text == PARA


@pytest.mark.parametrize("line", [
    "31/02/2020", "14/13/2020", "00/07/2020", "14/07/2020 25:00", "14/07/2020 10:60", "14/07/1850",
    "Ngày 28/5/1992, Ban Thường vụ Tỉnh ủy ban hành quyết định.", "Số 12/2020", "Năm 2020",
])
def test_not_a_date_line(line):
    art = parse_txt(f"Tiêu đề\n{line}\n{PARA}", "x.txt")
    assert art.date is None
    assert art.text == f"{line}\n{PARA}"


def test_date_line_only_near_the_top():
    body = [f"Đoạn {i}." for i in range(1, 11)]
    art = parse_txt("\n".join(["Tiêu đề", *body, "14/07/2020", PARA]), "x.txt")
    assert art.date is None and "14/07/2020" in art.text
    art = parse_txt("\n".join(["Tiêu đề", *body[:9], "14/07/2020", PARA]), "x.txt")
    assert art.date == "2020-07-14" and "14/07/2020" not in art.text


# --------------------------------------------------------------------------- discover

def _write(p: Path, data: bytes | str) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    p.write_bytes(data)
    return p


def test_discover_walks_sorted_filters_and_hashes(tmp_path):
    root = tmp_path / "c"
    for rel in ["z.txt", "sub/b.jsonl", "sub/a.txt", "A.TXT", "x.jsonl.gz", "notes.md", "y.txt.gz", ".hidden.txt",
                ".git/c.txt", "sub/deeper/k.txt"]:
        _write(root / rel, f"Tiêu đề {rel}\nNội dung.")
    files, problems = discover([root])
    assert problems == []
    assert [f.relpath for f in files] == ["A.TXT", "sub/a.txt", "sub/b.jsonl", "sub/deeper/k.txt",
                                          "x.jsonl.gz", "z.txt"]
    for f in files:
        data = f.path.read_bytes()
        assert f.path.is_absolute()
        assert f.size == len(data)
        assert f.sha256 == hashlib.sha256(data).hexdigest()
    # a file argument: relpath relative to its parent, or to root
    files, problems = discover([root / "sub" / "a.txt"])
    assert [f.relpath for f in files] == ["a.txt"] and problems == []
    files, problems = discover([root / "sub"], root=root)
    assert [f.relpath for f in files] == ["sub/a.txt", "sub/b.jsonl", "sub/deeper/k.txt"]
    art = next(read_articles(files[0], problems))
    assert art.id == "sub--a" and art.relpath == "sub/a.txt"


def test_discover_reports_missing_unsupported_outside_root_and_duplicates(tmp_path):
    a = _write(tmp_path / "one" / "a.txt", "T\nx")
    _write(tmp_path / "two" / "a.txt", "T\ny")
    md = _write(tmp_path / "notes.md", "x")
    files, problems = discover([tmp_path / "one", tmp_path / "two", tmp_path / "nope", md])
    assert [f.path for f in files] == [a]
    assert [p.path for p in problems] == ["a.txt", str(tmp_path / "nope"), str(md)]
    assert problems[0].reason.startswith("duplicate relpath")
    assert problems[1].reason == "no such file or directory"
    assert problems[2].reason.startswith("unsupported file type")
    files, problems = discover([a], root=tmp_path / "two")
    assert files == [] and "not under root" in problems[0].reason


def test_symlink_loops_and_broken_symlinks(tmp_path):
    root = tmp_path / "c"
    _write(root / "good.txt", "Tiêu đề\nNội dung.")
    (root / "sub").mkdir()
    os.symlink(root, root / "sub" / "back")             # directory cycle
    os.symlink("self.txt", root / "self.txt")           # ELOOP
    os.symlink(root / "missing.txt", root / "gone.txt")  # dangling
    os.symlink(root / "good.txt", root / "link.txt")    # a fine link to a file
    files, problems = discover([root])
    assert [f.relpath for f in files] == ["good.txt", "link.txt"]
    assert sorted((p.path, p.reason) for p in problems) == [
        ("gone.txt", "broken symlink"), ("self.txt", "symlink loop"), ("sub/back", "symlink loop")]


def test_fifo_is_not_read(tmp_path):
    """Opening a FIFO would block forever; a broken check fails here by alarm instead of hanging."""
    _write(tmp_path / "good.txt", "T\nx")
    os.mkfifo(tmp_path / "pipe.txt")

    def timeout(*_):
        raise TimeoutError("discover() blocked on a FIFO")
    old = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(10)
    try:
        files, problems = discover([tmp_path])
        files2, problems2 = discover([tmp_path / "pipe.txt"])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert files2 == [] and problems2 == [Problem("pipe.txt", "not a regular file")]
    assert [f.relpath for f in files] == ["good.txt"]
    assert problems == [Problem("pipe.txt", "not a regular file")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads chmod-000 files; see the simulated tests below")
def test_unreadable_file_and_dir_real_chmod(tmp_path):
    _write(tmp_path / "good.txt", "T\nx")
    bad = _write(tmp_path / "secret.txt", "T\nx")
    d = tmp_path / "locked"
    _write(d / "in.txt", "T\nx")
    bad.chmod(0)
    d.chmod(0)
    try:
        files, problems = discover([tmp_path])
    finally:
        bad.chmod(0o644)
        d.chmod(0o755)
    assert [f.relpath for f in files] == ["good.txt"]
    assert sorted(problems, key=lambda p: p.path) == [Problem("locked", "permission denied"),
                                                      Problem("secret.txt", "permission denied")]


def _deny(monkeypatch, name, denied: Path):
    """Simulate EACCES for one path in ingest's single open/scandir hook (tests run as root)."""
    real = getattr(filesystem, name)

    def fake(path):
        if Path(path) == denied:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)
    monkeypatch.setattr(filesystem, name, fake)


def test_unreadable_file_simulated(tmp_path, monkeypatch):
    _write(tmp_path / "good.txt", "T\nx")
    bad = _write(tmp_path / "secret.txt", "T\nx")
    _deny(monkeypatch, "open_binary", bad)
    files, problems = discover([tmp_path])
    assert [f.relpath for f in files] == ["good.txt"]
    assert problems == [Problem("secret.txt", "permission denied")]
    # unreadable at read time (e.g. permissions changed after discover)
    for rel in ("secret.txt", "secret.jsonl", "secret.jsonl.gz"):
        problems = []
        assert list(read_articles(SourceFile(bad, rel, 4, "0" * 64), problems)) == []
        assert problems == [Problem(rel, "permission denied")]


def test_file_vanished_after_discover(tmp_path):
    p = _write(tmp_path / "a.txt", "T\nx")
    files, problems = discover([tmp_path])
    p.unlink()
    assert list(read_articles(files[0], problems)) == []
    assert problems == [Problem("a.txt", "no such file or directory")]


def test_unreadable_directory_simulated(tmp_path, monkeypatch):
    _write(tmp_path / "good.txt", "T\nx")
    _write(tmp_path / "locked" / "in.txt", "T\nx")
    _deny(monkeypatch, "scandir", tmp_path / "locked")
    files, problems = discover([tmp_path])
    assert [f.relpath for f in files] == ["good.txt"]
    assert problems == [Problem("locked", "permission denied")]


# --------------------------------------------------------------------------- bad .txt files

def _read_all(paths, **kw):
    files, problems = discover(paths, **kw)
    arts = [a for f in files for a in read_articles(f, problems)]
    return arts, problems


def test_bad_txt_files_reported_good_ones_read(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_TXT_BYTES", 300)
    _write(tmp_path / "good.txt", "Tiêu đề\n" + "Nội dung tốt. " * 10)
    _write(tmp_path / "binary.txt", b"Ti\xc3\xaau \x00\x01\x02 \x00 data")
    _write(tmp_path / "ctrl.txt", bytes(range(1, 9)) * 30)
    _write(tmp_path / "pdf.txt", b"%PDF-1.4\n\xe2\xe3\xcf\xd3\n1 0 obj")
    good_prefix = "Tiêu đề\nViệt Nam ".encode("utf-8")
    _write(tmp_path / "latin1.txt", good_prefix + b"\xea\n")
    _write(tmp_path / "utf16.txt", "Tiêu đề\nNội dung".encode("utf-16"))
    _write(tmp_path / "empty.txt", b"")
    _write(tmp_path / "blank.txt", " \n\t\r\n\u00a0\n".encode("utf-8"))
    big = _write(tmp_path / "big.txt", "Tiêu đề\n" + "x" * 400).read_bytes()
    _write(tmp_path / "furniture.txt", "Tiêu đề\nQuay lên trên\n")
    BAD_BYTE_AT = len(good_prefix)  # noqa: N806
    arts, problems = _read_all([tmp_path])
    assert [a.id for a in arts] == ["good"]
    assert sorted((p.path, p.reason) for p in problems) == [
        ("big.txt", f"too large ({len(big)} B > 300 B)"),
        ("binary.txt", "binary file"),
        ("blank.txt", "empty (whitespace only)"),
        ("ctrl.txt", "binary file"),
        ("empty.txt", "empty"),
        ("furniture.txt", "no article text (only a title and page furniture)"),
        ("latin1.txt", f"invalid UTF-8 at byte {BAD_BYTE_AT}"),
        ("pdf.txt", "binary file"),
        ("utf16.txt", "UTF-16 text (only UTF-8 is supported)"),
    ]


def test_too_large_message_in_megabytes(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_TXT_BYTES", 2 * 1024 * 1024)
    with open(tmp_path / "huge.txt", "wb") as f:
        f.write(b"Title\n")
        f.truncate(int(5.24 * 1024 * 1024))
    arts, problems = _read_all([tmp_path])
    assert arts == [] and problems == [Problem("huge.txt", "too large (5.2 MB > 2 MB)")]


# --------------------------------------------------------------------------- jsonl / jsonl.gz

def _jl(**rec) -> str:
    return json.dumps(rec, ensure_ascii=False)


def test_jsonl_bad_lines_reported_and_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(validate, "MAX_ARTICLE_CHARS", 50)
    lines = [
        _jl(id="a1", title="Tiêu đề", text="Nội dung một.", topic=None, url="https://x.vn/a1",
            date="2022-05-28", source="vietnews"),                                  # 1 ok
        '{"id": "a2", "title": "x", "text": "bị cắt',                                # 2 invalid JSON
        "",                                                                         # 3 blank: ignored
        '["not", "an", "object"]',                                                  # 4
        _jl(id="a5", title="x"),                                                    # 5 missing text
        _jl(id="", text="x"),                                                       # 6 empty id
        _jl(id=1.5, text="x"),                                                      # 7 float id
        _jl(id=7, text="Số nguyên làm id."),                                        # 8 ok, id "7"
        _jl(id="a9", text="   "),                                                   # 9 empty text
        _jl(id="a10", text="x" * 51),                                               # 10 too large
        _jl(id="a11", title="có\u0000NUL", text="x"),                               # 11 NUL
        _jl(id="a1", text="trùng id"),                                              # 12 duplicate
        _jl(id="a13", text="x", url="javascript:alert(1)"),                         # 13 bad url: kept without it
        _jl(id="a14", text="x", date="14/07/2020"),                                 # 14 bad date: kept without it
        _jl(id="a15", text="x", title=None, url="", date=None),                     # 15 ok
    ]
    raw = ("\n".join(lines) + "\n").encode("utf-8")
    bad16 = b'{"id": "a16", "text": "\xff"}\n'
    raw += bad16                                                                  # 16 invalid UTF-8
    raw += b'{"id": "a17", "text": "\\ud800 lone surrogate"}\n'                     # 17
    raw += b'{"id": true, "text": "bool id"}\r\n'                                   # 18
    raw += b'{"id": "a19", "text": "last line, no newline, CRLF above"}'            # 19 ok
    _write(tmp_path / "d.jsonl", raw)
    arts, problems = _read_all([tmp_path])
    assert [a.id for a in arts] == ["a1", "7", "a13", "a14", "a15", "a19"]
    assert arts[0] == Article(id="a1", title="Tiêu đề", text="Nội dung một.", date="2022-05-28",
                              url="https://x.vn/a1", source="vietnews", relpath="d.jsonl")
    assert (arts[2].url, arts[3].date) == (None, None)
    assert arts[4] == Article(id="a15", title="", text="x", date=None, url=None, source=None, relpath="d.jsonl")
    got = {p.path: p.reason for p in problems}
    assert sorted(got) == sorted(f"d.jsonl:{n}" for n in (2, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 16, 17, 18))
    assert got["d.jsonl:2"].startswith("line 2: invalid JSON")
    assert got["d.jsonl:4"] == "line 4: not a JSON object (got list)"
    assert got["d.jsonl:5"] == "line 5: missing 'text'"
    assert got["d.jsonl:6"] == "line 6: empty 'id'"
    assert got["d.jsonl:7"] == "line 7: 'id' must be a string or an integer, not float"
    assert got["d.jsonl:9"] == "line 9: empty 'text'"
    assert got["d.jsonl:10"] == "line 10: 'text' too large (51 chars > 50)"
    assert got["d.jsonl:11"] == "line 11: 'title' contains a NUL character"
    assert got["d.jsonl:12"] == "line 12: duplicate id 'a1' (first on line 1): skipped"
    assert got["d.jsonl:13"].startswith("line 13: invalid 'url'")
    assert got["d.jsonl:13"].endswith("(the article is kept without its 'url')")
    assert got["d.jsonl:14"].startswith("line 14: invalid 'date' '14/07/2020'")
    assert got["d.jsonl:14"].endswith("(the article is kept without its 'date')")
    assert got["d.jsonl:16"] == "line 16: invalid UTF-8 at byte %d of the line" % bad16.index(b"\xff")
    assert got["d.jsonl:17"].startswith("line 17: 'text' contains an unpaired surrogate")
    assert got["d.jsonl:18"] == "line 18: 'id' must be a string or an integer, not bool"


def test_jsonl_overlong_line_skipped_without_reading_it_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "_max_line_bytes", lambda: 100)
    _write(tmp_path / "d.jsonl", "\n".join([_jl(id="a", text="x"), _jl(id="b", text="y" * 500), _jl(id="c", text="z")]))
    arts, problems = _read_all([tmp_path])
    assert [a.id for a in arts] == ["a", "c"]
    assert problems == [Problem("d.jsonl:2", "line 2: too large (> 100 B)")]


def test_jsonl_empty_and_bom(tmp_path):
    _write(tmp_path / "empty.jsonl", "\n\n")
    _write(tmp_path / "bom.jsonl", "\ufeff" + _jl(id="b", text="x") + "\n")
    arts, problems = _read_all([tmp_path])
    assert [a.id for a in arts] == ["b"]
    assert problems == [Problem("empty.jsonl", "empty")]


def _many_records(n: int) -> list[dict]:
    # varied text so that the gzip stream is long enough to cut in the middle
    return [{"id": f"v{i:05d}", "title": f"Bài {i}", "text": f"Nội dung số {i * 7919 % 100003} "
             + hashlib.sha256(str(i).encode()).hexdigest() * 3} for i in range(n)]


def test_jsonl_gz_valid_truncated_and_not_gzip(tmp_path):
    recs = _many_records(3000)
    payload = ("\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n").encode()
    blob = gzip.compress(payload)
    _write(tmp_path / "ok" / "a.jsonl.gz", blob)
    _write(tmp_path / "cut" / "a.jsonl.gz", blob[: len(blob) // 2])
    _write(tmp_path / "bad" / "a.jsonl.gz", payload[:500])

    arts, problems = _read_all([tmp_path / "ok"])
    assert problems == []
    assert [a.id for a in arts] == [r["id"] for r in recs]
    assert arts[-1].text == recs[-1]["text"]

    arts, problems = _read_all([tmp_path / "cut"])
    assert 0 < len(arts) < len(recs)
    assert [a.id for a in arts] == [r["id"] for r in recs[: len(arts)]]
    assert [p.path for p in problems] in (["a.jsonl.gz"], [f"a.jsonl.gz:{len(arts) + 1}", "a.jsonl.gz"])
    assert problems[-1].reason.startswith("corrupt gzip stream after line")

    arts, problems = _read_all([tmp_path / "bad"])
    assert arts == []
    assert len(problems) == 1 and problems[0].path == "a.jsonl.gz"
    assert problems[0].reason.startswith("corrupt gzip stream after line 0")


# --------------------------------------------------------------------------- validate_article / round trip

def test_validate_article_ok_and_conversions():
    art = validate_article({"id": 12, "text": "x", "title": "t", "topic": " Thể  thao ", "date": "2020-07-14 06:55",
                            "url": "HTTPS://Example.vn/a?b=1", "source": "", "other": 1}, relpath="r.jsonl")
    assert art == Article(id="12", title="t", text="x", date="2020-07-14T06:55",
                          url="HTTPS://Example.vn/a?b=1", source=None, relpath="r.jsonl", topic="Thể thao")
    assert validate_article({"id": "x", "text": "y", "date": "2020-02-29T23:59:59+07:00"}, "").date == \
        "2020-02-29T23:59:59+07:00"


@pytest.mark.parametrize("record,message", [
    ("not a dict", "not a JSON object (got str)"),
    ({"text": "x"}, "missing 'id'"),
    ({"id": "  ", "text": "x"}, "empty 'id'"),
    ({"id": "a\nb", "text": "x"}, "'id' contains a control character"),
    ({"id": ["a"], "text": "x"}, "'id' must be a string or an integer, not list"),
    ({"id": "a", "text": 5}, "'text' must be a string, not int"),
    ({"id": "a", "text": "x", "title": 3}, "'title' must be a string, not int"),
    ({"id": "a", "text": "x", "date": "2019-02-29"}, "invalid 'date' '2019-02-29'"),
    ({"id": "a", "text": "x", "url": "ftp://x"}, "invalid 'url' 'ftp://x'"),
    ({"id": "a", "text": "x", "source": "s\x00"}, "'source' contains a NUL character"),
    ({"id": "a", "text": "x", "topic": 7}, "'topic' must be a string, not int"),
    ({"id": "a", "text": "x", "tags": "bóng đá"}, "'tags' must be a list of strings, not str"),
    ({"id": "a", "text": "x", "tags": ["bóng đá", 3]}, "'tags' must be a string, not int"),
    ({"id": "a", "text": "x", "topic": "Thể\nthao" * 100}, "'topic' too long"),
    ({"id": "a", "text": "x\ud800"}, "'text' contains an unpaired surrogate"),
    # ids: one path segment or more of the site's URLs, never a path trick or an invisible difference
    ({"id": "/leading", "text": "x"}, "'id' starts with '/'"),
    ({"id": ".", "text": "x"}, "'id' has an empty, '.' or '..' segment"),
    ({"id": "..", "text": "x"}, "'id' has an empty, '.' or '..' segment"),
    ({"id": "../../etc/passwd", "text": "x"}, "'id' has an empty, '.' or '..' segment"),
    ({"id": "tin/./a", "text": "x"}, "'id' has an empty, '.' or '..' segment"),
    ({"id": "tin//a", "text": "x"}, "'id' has an empty, '.' or '..' segment"),
    ({"id": "tin-tuc/", "text": "x"}, "'id' has an empty, '.' or '..' segment"),
    ({"id": "bài mới", "text": "x"}, "'id' contains U+0020 (Zs)"),
    ({"id": " bai-moi", "text": "x"}, "'id' contains U+0020 (Zs)"),
    ({"id": "bai-moi\u00a0", "text": "x"}, "'id' contains U+00A0 (Zs)"),
    ({"id": "bai\u0085moi", "text": "x"}, "'id' contains a control character"),
    ({"id": "bai\u2028moi", "text": "x"}, "'id' contains U+2028 (Zl)"),
    ({"id": "bai\u200bmoi", "text": "x"}, "'id' contains U+200B (Cf)"),
    ({"id": "\ufeffbai", "text": "x"}, "'id' contains U+FEFF (Cf)"),
    ({"id": "bài-" + "a" * 197, "text": "x"}, "'id' too long (201 chars > 200)"),
    # field lengths, each named
    ({"id": "a", "text": "x", "title": "Tiêu đề " * 126}, "'title' too long (1,008 chars > 1,000)"),
    ({"id": "a", "text": "x", "source": "Báo " * 126}, "'source' too long (503 chars > 500)"),
    ({"id": "a", "text": "x", "topic": "Thể thao " * 56}, "'topic' too long (503 chars > 500)"),
    ({"id": "a", "text": "x", "url": "https://vnexpress.net/" + "a" * 479}, "'url' too long (501 chars > 500)"),
    ({"id": "a", "text": "x", "source": "Báo " * 250_000}, "'source' too long"),
])
def test_validate_article_errors(record, message):
    with pytest.raises(ValueError) as exc:
        validate_article(record, "r")
    assert str(exc.value).startswith(message)


@pytest.mark.parametrize("given,stored", [
    ("bai-moi", "bai-moi"),
    ("tin-tuc/thoi-su/bai-1", "tin-tuc/thoi-su/bai-1"),
    (unicodedata.normalize("NFD", "bài-mới"), "bài-mới"),          # NFD and NFC: one article
    ("bài-" + "a" * 196, "bài-" + "a" * 196),                        # 200 characters
    (12, "12"),
])
def test_valid_ids_are_stored_nfc(given, stored):
    art = validate_article({"id": given, "text": "x"}, "r")
    assert art.id == stored and unicodedata.is_normalized("NFC", art.id)


@pytest.mark.parametrize("title,source,topic", [
    ("Tiêu đề " * 125, "Báo " * 125, "Thể thao " * 55),               # 1,000 / 500 / 495 characters
])
def test_fields_at_their_limits_are_kept(title, source, topic):
    art = validate_article({"id": "a", "text": "x", "title": title, "source": source, "topic": topic,
                            "url": "https://vnexpress.net/" + "a" * 478}, "r")
    assert art.title == title and art.source == source.strip() and art.topic == topic.strip()
    assert len(art.url) == 500


@pytest.mark.parametrize("relpath,article_id", [
    ("000_4120920cae5b93dc.txt", "000_4120920cae5b93dc"),
    ("thoi-su/bai-1.txt", "thoi-su--bai-1"),
    ("bài mới.txt", "bài_mới"),                                    # a space in a file name: `_`
    (unicodedata.normalize("NFD", "thể thao/bài.txt"), "thể_thao--bài"),   # NFD file names (macOS): NFC
])
def test_page_ids_from_file_names_are_valid_ids(relpath, article_id):
    art = parse_txt("Tiêu đề bài báo\n\nNội dung của bài báo.\n", relpath)
    assert art.id == article_id
    assert validate_article({"id": art.id, "text": "x"}, "r").id == article_id


def test_a_file_name_that_makes_no_id_is_an_error():
    with pytest.raises(ValueError, match="too long"):
        parse_txt("Tiêu đề\n\nNội dung.\n", "a" * 201 + ".txt")


def _roundtrip(article: Article, directory: Path) -> list[Article]:
    p = directory / "rt.jsonl"
    p.write_text(article_to_jsonl(article) + "\n", encoding="utf-8")
    problems: list[Problem] = []
    files, _ = discover([p])
    out = [a for f in files for a in read_articles(f, problems)]
    assert problems == []
    return out


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_roundtrip_seed_articles(name, tmp_path):
    art = _seed(name)[1]
    line = article_to_jsonl(art)
    assert "\n" not in line and art.title in line     # one line, ensure_ascii=False
    assert _roundtrip(art, tmp_path) == [Article(**{**art.__dict__, "relpath": "rt.jsonl"})]


_text = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=1).filter(lambda s: s.strip())
_opt = st.none() | st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=1)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    # a valid id (check_id): NFC, no separator or control character, no empty/./.. segment
    id_=st.text(st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zs", "Zl", "Zp")), min_size=1, max_size=40).map(
        lambda s: unicodedata.normalize("NFC", s)).filter(
        lambda s: not s.startswith("/") and all(seg not in ("", ".", "..") for seg in s.split("/"))),
    title=st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=1000),
    text=_text,
    date=st.none() | st.sampled_from(["2020-07-14T06:55:40", "2015-08-04T11:41", "2022-05-28"]),
    url=st.none() | st.builds(lambda s: "https://x.vn/" + s, st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e))),
    # as validation keeps a keyword: NFC, whitespace collapsed, no control characters
    source=st.none() | st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=200).map(
        lambda s: unicodedata.normalize("NFC", " ".join(s.split()))).filter(lambda s: 0 < len(s) <= 200),
)
def test_roundtrip_property(id_, title, text, date, url, source):
    art = Article(id=id_, title=title, text=text, date=date, url=url, source=source, relpath="rt.jsonl")
    with tempfile.TemporaryDirectory() as d:
        assert _roundtrip(art, Path(d)) == [art]


_page_lines = st.lists(st.one_of(
    st.text(st.sampled_from(list("aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạĐÂ ,.:-()[]>|/0123456789\u00a0\t")), max_size=60),
    st.sampled_from(["Array", "(", ")", "[0] => Array", "[news_title] => Tin", "Quay lên trên", "Tin liên quan",
                     ">> link", "Địa chỉ: 1 Lê Lợi", "Thiết kế bởi X", "ĐẦU MỤC", "14/07/2020 06:55", ""]),
), max_size=30)


@settings(max_examples=300, deadline=None)
@given(_page_lines)
def test_parse_txt_never_alters_or_invents_text(lines):
    raw = "\n".join(lines)
    try:
        art = parse_txt(raw, "p.txt")
    except ValueError:
        return
    raw_lines = raw.split("\n")
    assert art.title in (ln.strip() for ln in raw_lines)
    assert art.text.strip()
    for line in art.text.split("\n"):
        assert line == "" or line in raw_lines


# --------------------------------------------------------------------------- topic, source, tags

@pytest.mark.parametrize("record,expected", [
    # Tuổi Trẻ writes some sections decomposed (NFD): stored NFC, so filters and facets see one value
    ({"topic": unicodedata.normalize("NFD", "Thời sự"), "source": "Tuổi Trẻ"}, ("Thời sự", "Tuổi Trẻ", ())),
    ({"topic": "  Thể   thao ", "tags": ["V-League", "bóng đá", "V-League", ""]},
     ("Thể thao", None, ("V-League", "bóng đá"))),
    ({"topic": "", "source": None, "tags": []}, (None, None, ())),
])
def test_keyword_fields_are_nfc_trimmed_and_deduplicated(record, expected):
    art = validate_article({"id": "a", "text": "Nội dung.", **record}, "r")
    assert (art.topic, art.source, art.tags) == expected


@pytest.mark.parametrize("field,value,message", [
    ("date", "2020-13-01", "invalid 'date' '2020-13-01'"),
    ("topic", ["Thể thao"], "'topic' must be a string, not list"),
    ("tags", "bóng đá", "'tags' must be a list of strings, not str"),
    ("url", "ftp://vnexpress.net/a", "invalid 'url'"),
])
def test_a_bad_optional_field_in_a_jsonl_line_is_reported_by_file_and_line_and_the_article_kept(
        tmp_path, field, value, message):
    good = {"id": "a1", "title": "Tuyển Việt Nam thắng", "text": "Bóng đá.", "topic": "Thể thao",
            "source": "VnExpress", "date": "2024-01-02", "tags": ["bóng đá"], "url": "https://vnexpress.net/a1"}
    _write(tmp_path / "d.jsonl", _jl(id="a0", text="Mở đầu.") + "\n" + _jl(**{**good, field: value}) + "\n")
    arts, problems = _read_all([tmp_path])
    assert [a.id for a in arts] == ["a0", "a1"]
    kept = arts[1]
    assert getattr(kept, field) in (None, ())
    assert all(getattr(kept, f) == good[f] if f != "tags" else kept.tags == tuple(good["tags"])
               for f in ("date", "topic", "url", "tags") if f != field)
    assert [(p.path, p.reason.split(": ", 1)[0]) for p in problems] == [("d.jsonl:2", "line 2")]
    assert message in problems[0].reason and f"kept without its '{field}'" in problems[0].reason


def test_topic_and_tags_round_trip_through_jsonl(tmp_path):
    art = Article(id="a", title="t", text="x", date="2024-01-02", url=None, source="Tuổi Trẻ", relpath="rt.jsonl",
                  topic="Giáo dục", tags=("tuyển sinh", "đại học"))
    assert _roundtrip(art, tmp_path) == [art]
