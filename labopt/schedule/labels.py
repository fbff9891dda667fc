"""Report labels in English or Vietnamese. Data keys (JSON, Python) stay in English."""

from __future__ import annotations

from labopt.errors import InputError

LANGS = ("en", "vi")

COLUMNS = {
    "vi": {
        "day": "Ngày",
        "date": "Ngày tháng",
        "district": "Mã địa phương",
        "district_name": "Địa phương",
        "stream": "Luồng mẫu",
        "lab": "Mã phòng xét nghiệm",
        "lab_name": "Phòng xét nghiệm",
        "samples": "Số mẫu",
        "algorithm": "Thuật toán gộp",
        "config": "Cấu hình gộp",
        "pool_size": "Số mẫu tối đa mỗi gộp",
        "pools": "Phản ứng vòng đầu",
        "reactions": "Số phản ứng (dự kiến)",
        "travel_hours": "Thời gian vận chuyển (giờ)",
        "demand": "Số mẫu cần xét nghiệm",
        "tested": "Đã xét nghiệm",
        "waiting": "Chờ sang ngày sau",
        "untested": "Không được xét nghiệm",
        "tested_within_turnaround": "Có kết quả trong thời hạn",
        "status": "Trạng thái",
        "capacity": "Công suất (phản ứng/ngày)",
        "reserve": "Dự phòng xét nghiệm lại",
        "utilisation": "Tỷ lệ sử dụng",
        "reagent_left": "Sinh phẩm còn lại (phản ứng)",
        "switched_on": "Được huy động",
        "single_samples_tested": "Mẫu đơn đã xét nghiệm",
        "pooled_samples_tested": "Mẫu gộp đã xét nghiệm",
        "single_target": "Chỉ tiêu mẫu đơn",
        "pooled_target": "Chỉ tiêu mẫu gộp",
        "reactions_used": "Phản ứng đã dùng",
        "reactions_capacity": "Công suất phản ứng",
        "kind": "Loại",
        "text": "Nội dung",
    },
}

WORDS = {
    "en": {
        "single": "single",
        "pooled": "pooled",
        "waiting": "waiting",
        "untested": "untested",
        "tested_vs_target": "Samples tested per day against the targets",
        "utilisation": "Lab utilisation (reactions used and reserved / capacity)",
        "samples_per_day": "samples per day",
        "day": "day",
        "single_tested": "single samples tested",
        "pooled_tested": "pooled samples tested",
        "single_target": "single target",
        "pooled_target": "pooled target",
    },
    "vi": {
        "single": "mẫu đơn",
        "pooled": "mẫu gộp",
        "waiting": "chờ",
        "untested": "không xét nghiệm",
        "tested_vs_target": "Số mẫu xét nghiệm mỗi ngày so với chỉ tiêu",
        "utilisation": "Tỷ lệ sử dụng công suất phòng xét nghiệm",
        "samples_per_day": "mẫu mỗi ngày",
        "day": "ngày",
        "single_tested": "mẫu đơn đã xét nghiệm",
        "pooled_tested": "mẫu gộp đã xét nghiệm",
        "single_target": "chỉ tiêu mẫu đơn",
        "pooled_target": "chỉ tiêu mẫu gộp",
    },
}

TEMPLATES = {
    "en": {
        "target_demand": "Day {day}: {tested:,} {what} samples tested against a target of "
        "{target:,} ({gap:,} short); only {demand:,} were requested",
        "target_capacity": "Day {day}: {tested:,} {what} samples tested against a target of "
        "{target:,} ({gap:,} short); {untested:,} went untested and "
        "{waiting:,} wait for the next day: capacity is short",
        "bottleneck": "{lab_name}, day {day}: full while {pending_samples:,} {stream} samples "
        "of the units it serves wait or go untested; each extra reaction would "
        "test {marginal_samples_per_reaction:.2f} more",
        "standby": "Switch on {lab_name} (standby): it tests {samples:,} samples in the plan",
        "reagent": "{lab_name}: reagent runs out on day {day}; {idle_capacity_after:,.0f} "
        "reactions of its capacity after that day have no reagent unless a delivery "
        "arrives",
    },
    "vi": {
        "target_demand": "Ngày {day}: xét nghiệm {tested:,} {what} so với chỉ tiêu {target:,} "
        "(thiếu {gap:,}); chỉ có {demand:,} mẫu được yêu cầu",
        "target_capacity": "Ngày {day}: xét nghiệm {tested:,} {what} so với chỉ tiêu {target:,} "
        "(thiếu {gap:,}); {untested:,} mẫu không được xét nghiệm và "
        "{waiting:,} mẫu phải chờ sang ngày sau: thiếu công suất",
        "bottleneck": "{lab_name}, ngày {day}: đã dùng hết công suất trong khi "
        "{pending_samples:,} mẫu {stream} của các địa phương gửi đến đang chờ "
        "hoặc không được xét nghiệm; mỗi phản ứng tăng thêm xét nghiệm thêm "
        "{marginal_samples_per_reaction:.2f} mẫu",
        "standby": "Huy động {lab_name} (dự phòng): xét nghiệm {samples:,} mẫu theo kế hoạch",
        "reagent": "{lab_name}: hết sinh phẩm vào ngày {day}; {idle_capacity_after:,.0f} phản "
        "ứng công suất sau ngày đó không có sinh phẩm nếu không được bổ sung",
    },
}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise InputError(f"lang: one of {', '.join(LANGS)}, got {lang!r}", "lang")
    return lang


def word(key: str, lang: str) -> str:
    return WORDS[lang][key]


def column(name: str, lang: str) -> str:
    return COLUMNS.get(lang, {}).get(name, name)


def render(item: dict, lang: str) -> str:
    """The sentence for one shortfall item."""
    kind = item["kind"]
    if kind == "target":
        key = "target_demand" if item["cause"] == "demand below target" else "target_capacity"
        return TEMPLATES[lang][key].format(**item, what=WORDS[lang][item["stream_kind"]])
    return TEMPLATES[lang][kind].format(**item)
