"""The capacity report's words in English and Vietnamese (`labopt capacity --lang`): its
table headings, sentences, and the codes of lab types, statuses and limits."""

from __future__ import annotations

from labopt.numbers import fill

TEXT = {
    "en": {
        "title": "{province}: lab capacity on day {day} ({date}), reactions/day",
        "columns": "lab|type|status|PCR|extraction|staff|reagent|capacity|binding",
        "meets": "meets",
        "misses": "does not meet",
        "totals": "Active labs: {reactions:,|reaction|reactions}/day (standby labs: {standby:,} "
        "more).\n"
        "That is {single:,} single samples/day, or {pooled:,} pooled samples/day at "
        "{per_pooled:.3f} reactions per pooled sample (each unit's optimal design, retests "
        "included).\nTargets: {single_target:,} single + {pooled_target:,} pooled a day need "
        "{needed:,|reaction|reactions}: the province {verdict} them; after the single target, "
        "{after:,} pooled samples/day fit.",
        "binding": "Binding limit {limit}: {labs:,|lab|labs}, {reactions:,|reaction|reactions}/day",
        "note": "note",
        "share": "{lab}: {share:.0%} of its capacity on day {day} (lab_days)",
        "reagent_note": "{lab}: reagent limits day {day} to {reactions:,|reaction|reactions} "
        "(projected "
        "if run at full capacity from day 1)",
        "what_it_takes": "What it takes",
        "need": "Targets need {needed:,|reaction|reactions}/day; active labs give {available:,}: "
        "short "
        "by {gap:,}.",
        "infeasible": "Even with every addition allowed by [expansion] (all standby labs on, 3 "
        "shifts, the maximum machines and technicians, any reagent) the province reaches "
        "{reachable:,|reaction|reactions}/day, still {short:,} short: the targets need more labs "
        "or "
        "more machines than the limits allow.",
        "cheapest": "Cheapest combination by the [expansion] effort weights (total effort "
        "{effort:g}), solver status {status}:",
        "together": "Together +{gained:,|reaction|reactions}/day: {total:,} >= {needed:,}.",
        "change": "{name}: {parts} -> {before:,} to {after:,|reaction|reactions}/day (+{gain:,}); "
        "limited by {limit_before} before, {limit_after} after",
        "switch_on": "switch on (standby)",
        "shift": "+{n} shift",
        "shifts": "+{n:|shift|shifts}",
        "pcr_machine": "+{n} PCR machine",
        "pcr_machines": "+{n} PCR machines",
        "extraction_machine": "+{n} extraction machine",
        "extraction_machines": "+{n} extraction machines",
        "technician": "+{n} technician per shift",
        "technicians": "+{n} technician per shift",
        "reagent": "+{n:,|reaction|reactions} of reagent",
        "off": "nothing (off)",
    },
    "vi": {
        "title": "{province}: công suất phòng xét nghiệm ngày {day} ({date}), phản ứng/ngày",
        "columns": "phòng xét nghiệm|loại|trạng thái|máy PCR|tách chiết|nhân lực|sinh phẩm|"
        "công suất|giới hạn",
        "meets": "đạt",
        "misses": "không đạt",
        "totals": "Các phòng đang hoạt động: {reactions:,} phản ứng/ngày (phòng dự phòng: "
        "thêm {standby:,}).\nTức là {single:,} mẫu đơn/ngày, hoặc {pooled:,} mẫu gộp/ngày với "
        "{per_pooled:.3f} phản ứng mỗi mẫu gộp (cách gộp tối ưu của từng địa phương, đã tính "
        "xét nghiệm lại).\nChỉ tiêu: {single_target:,} mẫu đơn + {pooled_target:,} mẫu gộp "
        "mỗi ngày cần {needed:,} phản ứng: tỉnh {verdict} chỉ tiêu; sau chỉ tiêu mẫu đơn, còn "
        "xét nghiệm được {after:,} mẫu gộp/ngày.",
        "binding": "Giới hạn {limit}: {labs:,} phòng, {reactions:,} phản ứng/ngày",
        "note": "ghi chú",
        "share": "{lab}: {share:.0%} công suất vào ngày {day} (lab_days)",
        "reagent_note": "{lab}: sinh phẩm chỉ đủ {reactions:,} phản ứng vào ngày {day} (dự "
        "tính nếu chạy hết công suất từ ngày 1)",
        "what_it_takes": "Cần bổ sung gì",
        "need": "Chỉ tiêu cần {needed:,} phản ứng/ngày; các phòng đang hoạt động có "
        "{available:,}: thiếu {gap:,}.",
        "infeasible": "Kể cả khi bổ sung mọi thứ [expansion] cho phép (huy động mọi phòng dự "
        "phòng, 3 ca, tối đa máy và kỹ thuật viên, đủ sinh phẩm), tỉnh đạt {reachable:,} phản "
        "ứng/ngày, vẫn thiếu {short:,}: chỉ tiêu cần nhiều phòng hoặc nhiều máy hơn giới hạn "
        "cho phép.",
        "cheapest": "Phương án ít công sức nhất theo trọng số [expansion] (tổng công sức "
        "{effort:g}), trạng thái bộ giải {status}:",
        "together": "Tổng cộng thêm {gained:,} phản ứng/ngày: {total:,} >= {needed:,}.",
        "change": "{name}: {parts} -> từ {before:,} lên {after:,} phản ứng/ngày (thêm "
        "{gain:,}); giới hạn trước: {limit_before}, sau: {limit_after}",
        "switch_on": "huy động (dự phòng)",
        "shift": "thêm {n} ca",
        "shifts": "thêm {n} ca",
        "pcr_machine": "thêm {n} máy PCR",
        "pcr_machines": "thêm {n} máy PCR",
        "extraction_machine": "thêm {n} máy tách chiết",
        "extraction_machines": "thêm {n} máy tách chiết",
        "technician": "thêm {n} kỹ thuật viên mỗi ca",
        "technicians": "thêm {n} kỹ thuật viên mỗi ca",
        "reagent": "thêm {n:,} phản ứng sinh phẩm",
        "off": "không (chưa huy động)",
    },
}

# codes of the labs table (facility type, status) and of limits, as a reader sees them
CODES = {
    "en": {
        "provincial_cdc": "provincial CDC",
        "provincial_hospital": "provincial hospital",
        "district_medical_centre": "district medical centre",
        "non_public": "non-public",
        "pcr": "PCR",
    },
    "vi": {
        "provincial_cdc": "CDC tỉnh",
        "provincial_hospital": "bệnh viện tuyến tỉnh",
        "district_medical_centre": "trung tâm y tế huyện",
        "non_public": "ngoài công lập",
        "military": "quân y",
        "mobile": "xe xét nghiệm lưu động",
        "active": "đang hoạt động",
        "standby": "dự phòng",
        "pcr": "máy PCR",
        "extraction": "tách chiết",
        "staff": "nhân lực",
        "reagent": "sinh phẩm",
        "OPTIMAL": "tối ưu",
        "FEASIBLE": "khả thi",
    },
}


def say(key: str, lang: str, **fields) -> str:
    """The text ``key`` in ``lang`` with its fields (numbers in the language's format)."""
    return fill(TEXT[lang][key], lang, **fields)


def code(value: str, lang: str) -> str:
    """A code (``non_public``, ``standby``, ``pcr``; ``pcr/staff`` part by part) in ``lang``."""
    return "/".join(CODES[lang].get(part, part) for part in str(value).split("/"))
