"""The screening commands' words in English and Vietnamese (`labopt screen ... --lang`): their
tables' titles and headings, sentences, area types, and the library's methods and notes
(:class:`labopt.notes.Note` under ``labopt.screening.words:METHODS`` and ``:NOTES``)."""

from __future__ import annotations

from labopt.numbers import fill

TEXT = {
    "en": {
        # screen size
        "detection_title": "Screening round for detection",
        "samples": "samples",
        "pools": "pools",
        "pools_of": "{pools:,} of {size:,|sample|samples}",
        "flagged_at": "flagged at",
        "flagged": "{cutoff:,|positive pool|positive pools} or more",
        "population_sensitivity": "population sensitivity",
        "population_specificity": "population specificity",
        "method": "method",
        "groups_title": "From each group",
        "group_columns": "group|relative risk|share|infected if p*|samples|pools",
        # screen precision
        "estimate_title": "Screening round for an estimate",
        "pools_reactions": "pools (reactions)",
        "precision": "precision",
        "half_width": "± {half_width:.4g}",
        "pool_positive": "a pool positive with probability",
        # screen allocate
        "rounds_title": "Screening rounds, {province}, {date}",
        "round_columns": "unit|level|area|p*|target|samples|pools|flagged at|sensitivity|asked",
        "totals": "The rounds take {samples:,|sample|samples} in {pools:,|pool|pools}; the "
        "demand asks "
        "{asked:,} screening samples. Design prevalence and targets are the scenario's "
        "[screening] settings (assumptions).",
        "unit_note": "{unit}: {note}",
        "wrote": "wrote {out}",
    },
    "vi": {
        "detection_title": "Vòng sàng lọc để phát hiện nhiễm",
        "samples": "số mẫu",
        "pools": "số mẫu gộp",
        "pools_of": "{pools:,} ({size:,} mẫu/mẫu gộp)",
        "flagged_at": "ngưỡng kết luận có nhiễm",
        "flagged": "từ {cutoff:,} mẫu gộp dương tính trở lên",
        "population_sensitivity": "độ nhạy quần thể",
        "population_specificity": "độ đặc hiệu quần thể",
        "method": "phương pháp",
        "groups_title": "Lấy mẫu từ từng nhóm",
        "group_columns": "nhóm|nguy cơ tương đối|tỷ lệ trong dân số|xác suất nhiễm ở p*|số mẫu|"
        "số mẫu gộp",
        "estimate_title": "Vòng sàng lọc để ước tính tỷ lệ nhiễm",
        "pools_reactions": "số mẫu gộp (phản ứng)",
        "precision": "độ chính xác (nửa khoảng tin cậy)",
        "half_width": "± {half_width:.4g}",
        "pool_positive": "xác suất một mẫu gộp dương tính",
        "rounds_title": "Các vòng sàng lọc, {province}, {date}",
        "round_columns": "địa phương|cấp độ dịch|khu vực|p*|độ nhạy mục tiêu|số mẫu|"
        "số mẫu gộp|ngưỡng (mẫu gộp dương tính)|độ nhạy quần thể|nhu cầu (mẫu)",
        "totals": "Các vòng sàng lọc cần {samples:,} mẫu, gộp thành {pools:,} mẫu gộp; nhu cầu "
        "sàng lọc là {asked:,} mẫu. p* là tỷ lệ lưu hành thiết kế; tỷ lệ này và độ nhạy mục "
        "tiêu lấy từ mục [screening] của kịch bản (là các giả định).",
        "unit_note": "{unit}: {note}",
        "wrote": "đã ghi {out}",
    },
}

# a unit's area type (scenario codes, English: the code with spaces)
AREAS = {
    "vi": {
        "concentrated_urban": "đô thị tập trung",
        "non_concentrated_urban": "đô thị không tập trung",
        "rural": "nông thôn",
        "mountainous": "miền núi",
        "border": "biên giới",
    },
}

# how the library computed a round (ScreeningSize.method)
METHODS = {
    "en": {
        "binomial_one": "binomial, one positive pool flags",
        "binomial_cutoff": "binomial with a cut-off",
        "exact": "hypergeometric, exact ({infected:,} infected of {population:,})",
        "risk_one": "risk-based, riskiest groups first, one positive pool flags",
        "risk_cutoff": "risk-based, riskiest groups first, binomial with a cut-off",
    },
    "vi": {
        "binomial_one": "phân phối nhị thức, một mẫu gộp dương tính là đủ kết luận",
        "binomial_cutoff": "phân phối nhị thức, có ngưỡng số mẫu gộp dương tính",
        "exact": "phân phối siêu bội, tính chính xác ({infected:,} người nhiễm trong "
        "{population:,} người)",
        "risk_one": "theo nguy cơ, nhóm nguy cơ cao nhất trước, một mẫu gộp dương tính là đủ "
        "kết luận",
        "risk_cutoff": "theo nguy cơ, nhóm nguy cơ cao nhất trước, phân phối nhị thức, có ngưỡng "
        "số mẫu gộp dương tính",
    },
}

# why a unit's round differs from its target (UnitRound.note)
NOTES = {
    "en": {
        "no_people": "no people: no round",
        "no_one_available": "no one available in its groups: no round",
        "all_of_groups": "every available person of its groups ({samples:,}) reaches only "
        "{sensitivity:.3f} < {target}: test them all",
        "everyone": "the round needs {needed:,|sample|samples}, more than the unit's {people:,} "
        "people: test everyone",
    },
    "vi": {
        "no_people": "không có dân: không có vòng sàng lọc",
        "no_one_available": "không ai trong các nhóm có thể lấy mẫu: không có vòng sàng lọc",
        "all_of_groups": "kể cả lấy mẫu mọi người có thể lấy mẫu trong các nhóm ({samples:,} "
        "người), độ nhạy chỉ đạt {sensitivity:.3f} < {target}: xét nghiệm tất cả họ",
        "everyone": "vòng sàng lọc cần {needed:,} mẫu, nhiều hơn dân số của địa phương "
        "({people:,} người): xét nghiệm toàn bộ",
    },
}


def say(key: str, lang: str, **fields) -> str:
    """The text ``key`` in ``lang`` with its fields (numbers in the language's format)."""
    return fill(TEXT[lang][key], lang, **fields)


def area(code: str, lang: str) -> str:
    """A unit's area type in ``lang`` (English: ``non_concentrated_urban`` as "non
    concentrated urban")."""
    return AREAS.get(lang, {}).get(code, code.replace("_", " "))
