"""The lab workflow's words in English and Vietnamese (`labopt batch ... --lang`): plate maps
and the batch summaries."""

from __future__ import annotations

from labopt.numbers import fill

TEXT = {
    "en": {
        "plate_map": "Plate map, batch {batch} ({design}), run {run}",
        "nothing": "Plate map: nothing left to run",
        "where": "Lab {lab} · {date}",
        "lab": "Lab {lab}",
        "date": "{date}",
        "about": "{wells}-well plates, filled {order}; control wells per plate (last in fill "
        "order): positive {positive}, negative {negative}, extraction blank {blank}. Each "
        "well: pool id, stage · samples, and the pool's district.",
        "column": "column by column (A1, B1, C1, ...)",
        "row": "row by row (A1, A2, A3, ...)",
        "plate": "Plate {plate} (run {run}): {n:,|reaction|reactions}",
        "plate_png": "Plate {plate}: {n:,|reaction|reactions}, filled by {order}",
        "stage": "stage {stage} · {samples}",
        "POS": "POS",
        "NEG": "NEG",
        "BLANK": "BLANK",
        "summary": "Batch {batch}: {design}, {how} pooling",
        "field": "field",
        "in_lab": "lab",
        "value": "value",
        "samples": "samples",
        "positive": "positive",
        "negative": "negative",
        "pending": "pending",
        "reactions_used": "reactions used so far",
        "reactions_next_run": "reactions in the next run",
        "repeats_next_run": "  of which repeats of invalid results",
        "plates_next_run": "plates in the next run",
        "recollect": "pools needing re-collection first",
        "wrote": "wrote {out}/: {files}",
        "note": "note",
        "failed_plate": "plate {plate}: {control} tested {got} (row {row}); its {k} reaction "
        "results are treated as invalid and will be repeated",
        "applied": "{added:,|result|results} added, {corrected:,} corrected, {unchanged:,} already "
        "recorded",
        "after_run": "Batch {batch} after run {run}",
        "recollect_people": "re-collect {people:,} people in "
        "{groups:,|address group|address groups} "
        "(recollect.csv); their results come {hours:g} h later",
        "estimate_title": "Prevalence from pooled results ({level:.0%} score interval, Se {se:g}, "
        "Sp {sp:g})",
        "wrote_estimates": "wrote {out}/: {files}",
        "unnamed": "(no label)",
    },
    "vi": {
        "plate_map": "Sơ đồ đĩa, lô {batch} ({design}), lượt chạy {run}",
        "nothing": "Sơ đồ đĩa: không còn gì phải chạy",
        "where": "Phòng xét nghiệm {lab} · {date}",
        "lab": "Phòng xét nghiệm {lab}",
        "date": "{date}",
        "about": "Đĩa {wells} giếng, nạp {order}; giếng chứng mỗi đĩa (cuối thứ tự nạp): "
        "chứng dương {positive}, chứng âm {negative}, mẫu trắng tách chiết {blank}. Mỗi giếng: "
        "mã mẫu gộp, vòng · số mẫu, và địa phương của mẫu gộp.",
        "column": "theo từng cột (A1, B1, C1, ...)",
        "row": "theo từng hàng (A1, A2, A3, ...)",
        "plate": "Đĩa {plate} (lượt chạy {run}): {n:,} phản ứng",
        "plate_png": "Đĩa {plate}: {n:,} phản ứng, nạp {order}",
        "stage": "vòng {stage} · {samples}",
        "POS": "DƯƠNG",
        "NEG": "ÂM",
        "BLANK": "TRẮNG",
        "summary": "Lô {batch}: {design}, gộp mẫu {how}",
        "field": "tại nơi lấy mẫu",
        "in_lab": "tại phòng xét nghiệm",
        "value": "giá trị",
        "samples": "số mẫu",
        "positive": "dương tính",
        "negative": "âm tính",
        "pending": "đang chờ",
        "reactions_used": "phản ứng đã dùng",
        "reactions_next_run": "phản ứng ở lượt chạy sau",
        "repeats_next_run": "  trong đó chạy lại kết quả không hợp lệ",
        "plates_next_run": "số đĩa ở lượt chạy sau",
        "recollect": "mẫu gộp cần lấy lại mẫu trước",
        "wrote": "đã ghi {out}/: {files}",
        "note": "ghi chú",
        "failed_plate": "đĩa {plate}: {control} cho kết quả {got} (dòng {row}); {k} kết quả "
        "phản ứng của đĩa được coi là không hợp lệ và sẽ chạy lại",
        "applied": "thêm {added:,} kết quả, sửa {corrected:,}, {unchanged:,} đã có từ trước",
        "after_run": "Lô {batch} sau lượt chạy {run}",
        "recollect_people": "lấy lại mẫu của {people:,} người ở {groups:,} nhóm địa chỉ "
        "(recollect.csv); có kết quả sau {hours:g} giờ",
        "estimate_title": "Tỷ lệ nhiễm ước tính từ kết quả mẫu gộp (khoảng tin cậy Wilson "
        "{level:.0%}, độ nhạy {se:g}, độ đặc hiệu {sp:g})",
        "wrote_estimates": "đã ghi {out}/: {files}",
        "unnamed": "(chưa đặt tên)",
    },
}


def say(key: str, lang: str, **fields) -> str:
    """The text ``key`` in ``lang`` with its fields (numbers in the language's format)."""
    return fill(TEXT[lang][key], lang, **fields)


# a failed control's words in the note on its plate
FIELD_WORDS = {
    "control": {
        "en": {
            "positive_control": "positive control",
            "negative_control": "negative control",
            "extraction_blank": "extraction blank",
        },
        "vi": {
            "positive_control": "giếng chứng dương",
            "negative_control": "giếng chứng âm",
            "extraction_blank": "mẫu trắng tách chiết",
        },
    },
    "got": {
        "vi": {
            "positive": "dương tính",
            "negative": "âm tính",
            "invalid": "không hợp lệ",
            "unreadable": "không đọc được",
        }
    },
}


# the estimates table's headings, and its notes, in Vietnamese (English: the keys and notes)
ESTIMATE_HEADINGS = {
    "vi": {
        "district": "địa phương",
        "stream": "luồng mẫu",
        "pools": "số mẫu gộp",
        "positive_pools": "mẫu gộp dương tính",
        "samples": "số mẫu",
        "prevalence": "tỷ lệ nhiễm",
        "lower": "cận dưới",
        "upper": "cận trên",
        "note": "ghi chú",
        "algorithm": "cách gộp",
        "config": "cấu hình",
        "expected_tests_per_sample": "số xét nghiệm dự kiến mỗi mẫu",
    }
}
ESTIMATE_NOTES = {
    "vi": {
        "no positive pool": "không có mẫu gộp dương tính",
        "every pool positive: the data bound the prevalence from below only": "mọi mẫu gộp "
        "đều dương tính: số liệu chỉ cho cận dưới của tỷ lệ nhiễm",
        "no more positive pools than false positives explain": "số mẫu gộp dương tính không "
        "nhiều hơn số dương tính giả",
        "the results are unlikely under the assay's Se/Sp at any prevalence: fewer positive "
        "pools than false positives alone give; check the specificity": "kết quả khó xảy ra "
        "với độ nhạy/độ đặc hiệu của sinh phẩm ở bất kỳ tỷ lệ nhiễm nào: ít mẫu gộp dương tính "
        "hơn cả số dương tính giả; hãy kiểm tra độ đặc hiệu",
        "the results are unlikely under the assay's Se/Sp at any prevalence: more positive "
        "pools than the sensitivity allows; check the sensitivity": "kết quả khó xảy ra với độ "
        "nhạy/độ đặc hiệu của sinh phẩm ở bất kỳ tỷ lệ nhiễm nào: nhiều mẫu gộp dương tính hơn "
        "độ nhạy cho phép; hãy kiểm tra độ nhạy",
    }
}


def heading(column: str, lang: str) -> str:
    """An estimates column's heading in ``lang`` (English: its key in words, which wrap)."""
    return ESTIMATE_HEADINGS.get(lang, {}).get(column, column.replace("_", " "))


def estimate_note(note: str, lang: str) -> str:
    """An estimate's note in ``lang`` (English: as written)."""
    return ESTIMATE_NOTES.get(lang, {}).get(note, note)
