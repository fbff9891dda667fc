"""Report labels in English or Vietnamese. Data keys (JSON, Python) stay in English."""

from __future__ import annotations

from labopt.errors import InputError
from labopt.numbers import fill, number_text
from labopt.schedule.notes import SOLVER_WORDS

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
        "prevalence": "Tỷ lệ dương tính giả định",
        "status": "Trạng thái",
        "capacity": "Công suất sử dụng được (phản ứng/ngày)",
        "capacity_without_reagent": "Công suất chưa tính sinh phẩm (phản ứng/ngày)",
        "reagent_on_hand": "Sinh phẩm đầu ngày (phản ứng)",
        "limit": "Giới hạn",
        "retest_sd": "Độ lệch chuẩn xét nghiệm lại (phản ứng)",
        "overflow_risk": "Nguy cơ vượt công suất",
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
        "cause": "Nguyên nhân",
        "kind": "Loại",
        "text": "Nội dung",
        "source": "Mã nơi chuyển",
        "source_name": "Nơi chuyển",
        "target": "Mã nơi nhận",
        "target_name": "Nơi nhận",
        "arrival_day": "Ngày dùng được",
        "why": "Lý do",
        "reagent_sent": "Sinh phẩm chuyển đi (phản ứng)",
        "kits_sent": "Bộ dụng cụ lấy mẫu chuyển đi",
        "resource": "Loại",
        "quantity": "Số lượng",
        "not_collected": "Không lấy được (thiếu dụng cụ)",
        "waiting_before": "Chờ từ ngày trước",
        "plates": "Số đĩa",
        "wells": "Giếng mẫu mỗi đĩa",
        "collected": "Đã lấy mẫu",
        "planned_tested": "Xét nghiệm theo kế hoạch",
        "planned_reactions": "Phản ứng theo kế hoạch",
        "behind_plan": "Mẫu kế hoạch giao chưa xét nghiệm",
        "off_plan": "Mẫu xét nghiệm ngoài kế hoạch",
        "tested_same_day": "Xét nghiệm trong ngày lấy mẫu",
        "mean_wait_days": "Số ngày chờ trung bình",
        "reactions_run": "Phản ứng đã chạy",
        "lab_totals": "Tổng theo phòng xét nghiệm",
        "arrival_date": "Ngày đến",
        "shipments": "Chuyển sinh phẩm",
        "could_collect": "Có thể lấy mẫu",
        "collect": "Nên lấy mẫu",
        "infections_expected": "Số ca nhiễm dự kiến phát hiện",
        "design_prevalence": "Tỷ lệ nhiễm thiết kế",
        "detection_probability": "Xác suất phát hiện",
    },
}

WORDS = {
    "en": {
        "reagent": "reagent (reactions)",
        "kits": "collection kits",
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
        "reagent_title": "Reagent left at the end of each day, with and without the shipments",
        "reagent_left": "reactions left",
        "reagent_lowest": "Reagent left at the end of each day in the labs that run lowest",
        "with_shipments": "with the shipments",
        "without_shipments": "without them (below 0: would run out)",
        "yes": "yes",
        "no": "no",
        "tested_bar": "tested",
        "waiting_bar": "waiting for the next day",
        "untested_bar": "untested (spoiled)",
        "requested": "requested that day",
        "target": "target",
        "single_samples": "Single samples (not poolable)",
        "pooled_samples": "Pooled samples",
        "no_reagent": "idle: no reagent",
        "standby_off": "standby lab not switched on",
        "reserve": "retest reserve",
        "not_needed": "idle: not needed",
        "reactions_week": "reactions over the week",
        "lab_week_title": "each lab's week: reactions by stream, reserve and idle capacity",
        "units": "units (by samples sent)",
        "labs_used": "labs (by reactions run)",
        "labs_idle": "labs not used",
        "longitude": "longitude (°)",
        "latitude": "latitude (°)",
        "map_title": "where each unit sends its samples over the week",
    },
    "vi": {
        "reagent": "sinh phẩm (phản ứng)",
        "kits": "bộ dụng cụ lấy mẫu",
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
        "reagent_title": "Sinh phẩm còn lại cuối mỗi ngày, có và không có các đợt chuyển",
        "reagent_left": "phản ứng còn lại",
        "reagent_lowest": "Sinh phẩm còn lại cuối mỗi ngày ở các phòng còn ít nhất",
        "with_shipments": "có các đợt chuyển",
        "without_shipments": "không có (dưới 0: sẽ hết sinh phẩm)",
        "yes": "có",
        "no": "không",
        "tested_bar": "đã xét nghiệm",
        "waiting_bar": "chờ sang ngày sau",
        "untested_bar": "không xét nghiệm (hỏng)",
        "requested": "yêu cầu trong ngày",
        "target": "chỉ tiêu",
        "single_samples": "Mẫu đơn (không gộp)",
        "pooled_samples": "Mẫu gộp",
        "no_reagent": "bỏ trống: hết sinh phẩm",
        "standby_off": "phòng dự phòng chưa huy động",
        "reserve": "dự phòng xét nghiệm lại",
        "not_needed": "bỏ trống: không cần đến",
        "reactions_week": "số phản ứng cả tuần",
        "lab_week_title": "cả tuần của mỗi phòng: phản ứng theo luồng mẫu, dự phòng và công "
        "suất bỏ trống",
        "units": "địa phương (theo số mẫu gửi)",
        "labs_used": "phòng xét nghiệm (theo số phản ứng)",
        "labs_idle": "phòng không dùng đến",
        "longitude": "kinh độ (°)",
        "latitude": "vĩ độ (°)",
        "map_title": "nơi mỗi địa phương gửi mẫu trong tuần",
    },
}

# values of the labs table's "limit" and the days table's "cause" columns
VALUES = {
    "en": {
        "pcr": "PCR",
        "extraction": "extraction",
        "staff": "staff",
        "reagent": "reagent",
        "off": "off",
        "standby": "standby labs off",
        "travel": "travel",
        "capacity": "capacity",
        "stage": "stage limit",
        "spare": "unused room",
        "demand": "demand",
        "demand below target": "demand below target",
        "active": "active",
        "target": "target",
        "stream": "stream",
        "national": "national supply",
        "shipment": "reagent shipment",
        "kit_shipment": "kit shipment",
        "reagent_day": "reagent run-out",
        "uncollected": "not collected",
        "bottleneck": "bottleneck",
        "kits": "collection kits",
    },
    "vi": {
        "pcr": "máy PCR",
        "extraction": "tách chiết",
        "staff": "nhân lực",
        "reagent": "sinh phẩm",
        "off": "chưa huy động",
        "standby": "chưa huy động phòng dự phòng",
        "travel": "khoảng cách vận chuyển",
        "capacity": "công suất",
        "stage": "giới hạn số vòng xét nghiệm",
        "spare": "công suất chưa dùng",
        "demand": "nhu cầu",
        "demand below target": "nhu cầu thấp hơn chỉ tiêu",
        # lab statuses, shortfall kinds, shipped resources
        "active": "đang hoạt động",
        "target": "chỉ tiêu",
        "stream": "luồng mẫu",
        "national": "cấp trung ương",
        "shipment": "chuyển sinh phẩm",
        "kit_shipment": "chuyển dụng cụ lấy mẫu",
        "reagent_day": "hết sinh phẩm trong ngày",
        "uncollected": "không lấy được mẫu",
        "bottleneck": "điểm nghẽn",
        "kits": "bộ dụng cụ lấy mẫu",
    },
}

TEMPLATES = {
    "en": {
        "target_demand": "Day {day}: {tested:,} {what} samples tested against a target of "
        "{target:,} ({gap:,} short); only {demand:,} were requested",
        "target_short": "Day {day}: {tested:,} {what} samples tested against a target of "
        "{target:,} ({gap:,} short); {untested:,} went untested and "
        "{waiting:,} wait for the next day{by_risk}. Cause: {first}{also}",
        "stream": "Day {day}, {stream_name}: {waiting:,} waiting and {untested:,} untested "
        "samples{by_risk}. Cause: {first}{also}",
        "by_risk": " ({not_collected:,} more the units could collect are not collected, "
        "screening by risk)",
        "also": "; also ",
        "target_demand_days": "{when}: every {what} sample requested was tested, below the "
        "target of {target:,} ({tested})",
        "minor": "{when}: fewer than {minor:,|sample|samples} waiting or untested a day for "
        "reasons "
        "listed in shortfall.csv ({samples:,} in all)",
        "bottleneck": "{lab_name}, day {day}: full while {pending_samples:,|sample|samples} "
        "({stream_name}) of the units it serves wait or go untested; each extra reaction would "
        "test {marginal_samples_per_reaction:.2f} more",
        "standby": "Switch on {lab_name} (standby) on {when}: it tests "
        "{samples:,|sample|samples} in "
        "the plan",
        "shipment": "Ship {reactions:,|reaction|reactions} from {source_name} to {target_name} "
        "on day "
        "{day} (usable from day {arrival_day}): {why}",
        "ship_run_out": "{target_name} would run out on day {run_out_day}",
        "ship_cover": "it keeps {cover_days:g|day|days} of reagent in stock",
        "ship_later": "reagent for its later days",
        "national": "What it takes: the province must receive {reactions:,|reaction|reactions} "
        "from the "
        "national level ({days}) to test {samples:,} more samples ({gain})",
        "national_day": "{cumulative:,} by day {day}",
        "kit_shipment": "Ship {kits:,} collection kits from {source_name} to {target_name} on "
        "day {day} (usable from day {arrival_day}): {why}",
        "kits_run_out": "{target_name} would run out of kits on day {run_out_day}",
        "kits_later": "kits for its later days",
        "uncollected": "Day {day}: {samples:,} screening samples not collected for lack of "
        "collection kits; most at {top_name} ({top_samples:,})",
        "reagent_day": "Day {day}: {labs_out:,|lab|labs} run out of reagent; "
        "{reactions_short:,.0f|reaction|reactions}"
        " short by day {last_day}; largest: {top_name}, {top_short:,.0f}",
        "reagent_day_one": "Day {day}: {top_name} runs out of reagent; "
        "{reactions_short:,.0f|reaction|reactions} short by day {last_day}",
        "reagent_day_end": "Day {day}: {labs_out:,|lab|labs} run out of reagent; nothing goes "
        "untested for it by day {last_day}, but they start the day after with none",
        "reagent_day_one_end": "Day {day}: {top_name} runs out of reagent; nothing goes "
        "untested for it by day {last_day}, but it starts the day after with none",
        "reagent": "{lab_name}: reagent runs out on day {day}{until}{short}",
        "reagent_never": "{lab_name}: no reagent from day 1{until}{short}",
        "short": "; meanwhile {reactions_short:,.0f|reaction|reactions} of its capacity stand "
        "idle while "
        "samples it could test wait",
        "until": "; none until the delivery of day {day} ({reactions:,.0f|reaction|reactions})",
        "after": "; next delivery: day {day} ({reactions:,.0f|reaction|reactions}), after the "
        "plan's "
        "last day",
        "no_delivery": "; no delivery is scheduled",
        "one_day": "day {a}",
        "days": "days {a}",
        "and": " and ",
        # each cause of waiting samples, with its numbers
        "cause_reagent": "reagent: out at {labs_out:,} of {labs_in_reach:,|lab|labs} within reach "
        "({reactions:,|reaction|reactions} of their capacity idle; {province_left:,} left in "
        "the province)",
        "cause_standby": "standby labs not switched on: {labs_off:,} within reach could run "
        "{reactions:,|reaction|reactions}",
        "cause_travel": "travel: {parts}",
        "travel_room": "{room_beyond_reach:,|reaction|reactions} free at "
        "{labs_beyond_reach:,|lab|labs} "
        "beyond {max_travel_hours:,g} h of road",
        "travel_units": "{samples_without_lab:,|sample|samples} in "
        "{units_without_lab:,|unit|units} with "
        "no lab within reach",
        "cause_capacity": "capacity: full at {labs_full:,} of {labs_in_reach:,|lab|labs} within "
        "reach{limits}; about {reactions:,|reaction|reactions} more needed",
        "cause_stage": "stage limit: with {stages} PCR rounds instead of {max_stages}, the "
        "day's pooled samples would save {reactions:,|reaction|reactions}, enough for about "
        "{samples:,} more",
        "cause_spare": "room left unused: {room:,|reaction|reactions} at {labs:,|lab|labs} "
        "within reach",
    },
    "vi": {
        "target_demand": "Ngày {day}: xét nghiệm {tested:,} {what} so với chỉ tiêu {target:,} "
        "(thiếu {gap:,}); chỉ có {demand:,} mẫu được yêu cầu",
        "target_short": "Ngày {day}: xét nghiệm {tested:,} {what} so với chỉ tiêu {target:,} "
        "(thiếu {gap:,}); {untested:,} mẫu không được xét nghiệm và "
        "{waiting:,} mẫu phải chờ sang ngày sau{by_risk}. Nguyên nhân: {first}{also}",
        "stream": "Ngày {day}, {stream_name}: {waiting:,} mẫu phải chờ và {untested:,} mẫu "
        "không được xét nghiệm{by_risk}. Nguyên nhân: {first}{also}",
        "by_risk": " (thêm {not_collected:,} mẫu các địa phương có thể lấy nhưng không lấy, "
        "sàng lọc theo nguy cơ)",
        "also": "; ngoài ra ",
        "target_demand_days": "{when}: đã xét nghiệm mọi {what} được yêu cầu, thấp hơn chỉ "
        "tiêu {target:,} ({tested})",
        "minor": "{when}: mỗi ngày dưới {minor:,} mẫu phải chờ hoặc không được xét nghiệm, "
        "nguyên nhân trong shortfall.csv (tổng {samples:,} mẫu)",
        "bottleneck": "{lab_name}, ngày {day}: đã dùng hết công suất trong khi "
        "{pending_samples:,} mẫu ({stream_name}) của các địa phương gửi đến đang chờ "
        "hoặc không được xét nghiệm; mỗi phản ứng bổ sung giúp xét nghiệm thêm "
        "{marginal_samples_per_reaction:.2f} mẫu",
        "standby": "Huy động {lab_name} (dự phòng) vào {when}: xét nghiệm {samples:,} mẫu "
        "theo kế hoạch",
        "shipment": "Chuyển {reactions:,} phản ứng sinh phẩm từ {source_name} đến {target_name} "
        "ngày {day} (dùng được từ ngày {arrival_day}): {why}",
        "ship_run_out": "{target_name} sẽ hết sinh phẩm vào ngày {run_out_day}",
        "ship_cover": "giữ dự trữ sinh phẩm đủ {cover_days:g} ngày",
        "ship_later": "sinh phẩm cho các ngày sau",
        "national": "Cần bổ sung: tỉnh phải nhận {reactions:,} phản ứng sinh phẩm từ trung ương "
        "({days}) để xét nghiệm thêm {samples:,} mẫu ({gain})",
        "national_day": "{cumulative:,} trước hết ngày {day}",
        "kit_shipment": "Chuyển {kits:,} bộ dụng cụ lấy mẫu từ {source_name} đến {target_name} "
        "ngày {day} (dùng được từ ngày {arrival_day}): {why}",
        "kits_run_out": "{target_name} sẽ hết bộ dụng cụ lấy mẫu vào ngày {run_out_day}",
        "kits_later": "dụng cụ cho các ngày sau",
        "uncollected": "Ngày {day}: {samples:,} mẫu sàng lọc không được lấy do thiếu bộ dụng "
        "cụ lấy mẫu; nhiều nhất tại {top_name} ({top_samples:,})",
        "reagent_day": "Ngày {day}: {labs_out:,} phòng xét nghiệm hết sinh phẩm; thiếu "
        "{reactions_short:,.0f} phản ứng đến hết ngày {last_day}; nhiều nhất: {top_name}, "
        "{top_short:,.0f}",
        "reagent_day_one": "Ngày {day}: {top_name} hết sinh phẩm; thiếu "
        "{reactions_short:,.0f} phản ứng đến hết ngày {last_day}",
        "reagent_day_end": "Ngày {day}: {labs_out:,} phòng xét nghiệm hết sinh phẩm; đến hết "
        "ngày {last_day} chưa có mẫu nào bị bỏ vì thế, nhưng ngày tiếp theo các phòng này không "
        "còn sinh phẩm",
        "reagent_day_one_end": "Ngày {day}: {top_name} hết sinh phẩm; đến hết ngày {last_day} "
        "chưa có mẫu nào bị bỏ vì thế, nhưng ngày tiếp theo phòng này không còn sinh phẩm",
        "reagent": "{lab_name}: hết sinh phẩm vào ngày {day}{until}{short}",
        "reagent_never": "{lab_name}: không có sinh phẩm từ ngày 1{until}{short}",
        "short": "; trong thời gian đó {reactions_short:,.0f} phản ứng công suất bị bỏ trống "
        "trong khi vẫn còn mẫu phòng có thể xét nghiệm đang chờ",
        "until": "; không có sinh phẩm cho đến đợt cấp ngày {day} ({reactions:,.0f} phản ứng)",
        "after": "; đợt cấp tiếp theo: ngày {day} ({reactions:,.0f} phản ứng), sau ngày cuối "
        "của kế hoạch",
        "no_delivery": "; chưa có lịch cấp sinh phẩm",
        "one_day": "ngày {a}",
        "days": "các ngày {a}",
        "and": " và ",
        "cause_reagent": "sinh phẩm: hết ở {labs_out:,}/{labs_in_reach:,} phòng xét nghiệm "
        "trong phạm vi ({reactions:,} phản ứng công suất bị bỏ trống; toàn tỉnh còn "
        "{province_left:,} phản ứng)",
        "cause_standby": "phòng dự phòng chưa được huy động: {labs_off:,} phòng trong phạm vi "
        "có thể chạy {reactions:,} phản ứng",
        "cause_travel": "vận chuyển: {parts}",
        "travel_room": "còn trống {room_beyond_reach:,} phản ứng ở {labs_beyond_reach:,} phòng "
        "xa hơn {max_travel_hours:,g} giờ đường",
        "travel_units": "{samples_without_lab:,} mẫu ở {units_without_lab:,} địa phương không "
        "có phòng xét nghiệm nào trong phạm vi",
        "cause_capacity": "công suất: {labs_full:,}/{labs_in_reach:,} phòng trong phạm vi đã "
        "dùng hết công suất{limits}; cần thêm khoảng {reactions:,} phản ứng",
        "cause_stage": "giới hạn số vòng xét nghiệm: nếu cho phép {stages} vòng thay vì "
        "{max_stages}, mẫu gộp trong ngày tiết kiệm {reactions:,} phản ứng, đủ xét nghiệm "
        "thêm khoảng {samples:,} mẫu",
        "cause_spare": "công suất chưa dùng: {room:,} phản ứng ở {labs:,} phòng trong phạm vi",
    },
}


# the stages a plan goes through, as the progress display names them (the service keeps the
# English: its jobs' progress is read from them)
STAGES = {
    "vi": {
        "starting": "đang bắt đầu",
        "loading the scenario": "đang đọc kịch bản",
        "designs and capacities": "đang tính cách gộp mẫu và công suất",
        "solving the allocation (min-cost flow)": "đang phân bổ mẫu (luồng chi phí nhỏ nhất)",
        "solving the allocation (LP)": "đang phân bổ mẫu (quy hoạch tuyến tính)",
        "rounding to whole samples": "đang làm tròn thành mẫu nguyên",
        "screening by risk: the plan on the demand as given, to compare": "sàng lọc theo nguy "
        "cơ: lập kế hoạch theo nhu cầu ban đầu để so sánh",
        "tables and shortfall report": "đang lập bảng và báo cáo thiếu hụt",
        "what the province must receive": "đang tính lượng sinh phẩm tỉnh cần nhận",
        "independent check": "đang kiểm tra độc lập",
        "writing tables and charts": "đang ghi bảng và biểu đồ",
        "writing tables and charts; independent check": "đang ghi bảng và biểu đồ; kiểm tra "
        "độc lập",
        "writing the one-page report": "đang ghi báo cáo một trang",
        "queued": "đang chờ",
        "saving": "đang lưu",
        "done": "xong",
    },
}


def stage_text(stage: str, lang: str) -> str:
    """A progress stage in ``lang`` (one not listed: as it is)."""
    return STAGES.get(lang, {}).get(stage, stage)


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise InputError(f"lang: one of {', '.join(LANGS)}, got {lang!r}", "lang")
    return lang


def word(key: str, lang: str) -> str:
    return WORDS[lang][key]


def solver_word(code: str, lang: str) -> str:
    """A solver method or status (``lp``, ``OPTIMAL``...) in ``lang``; unknown codes as they are."""
    return SOLVER_WORDS[lang].get(code, code)


def column(name: str, lang: str) -> str:
    """A table column's label; waiting_<stream> and untested_<stream> keep the stream id."""
    labels = COLUMNS.get(lang, {})
    if name in labels:
        return labels[name]
    for prefix in ("waiting", "untested"):
        if name.startswith(prefix + "_") and prefix in labels:
            return f"{labels[prefix]}: {name[len(prefix) + 1 :]}"
    return labels.get(name, name)


def value(text: str | None, lang: str) -> str | None:
    """A "limit" or "cause" value in ``lang`` (parts joined by "+" each translated)."""
    if not text:
        return text
    return "+".join(VALUES[lang].get(part, part) for part in text.split("+"))


def days_text(days: list[int], lang: str) -> str:
    """Days as runs: "day 5", "days 2–4 and 6" ("ngày 5", "các ngày 2–4 và 6")."""
    runs: list[list[int]] = []
    for d in sorted(days):
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    parts = [str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs]
    t = TEMPLATES[lang]
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + t["and"] + parts[-1]
    return fill(t["one_day" if len(days) == 1 else "days"], lang, a=joined)


def cause_text(cause: dict, lang: str) -> str:
    """One cause of waiting samples, with its numbers."""
    t = TEMPLATES[lang]
    extra = {}
    if cause["cause"] == "travel":
        parts = [
            fill(t[key], lang, **cause)
            for key, n in (
                ("travel_room", "room_beyond_reach"),
                ("travel_units", "units_without_lab"),
            )
            if cause[n] > 0
        ]
        extra["parts"] = "; ".join(parts)
    if cause["cause"] == "capacity":
        limits = ", ".join(
            f"{VALUES[lang][k]} {number_text(n, lang)}" for k, n in cause["by_limit"].items()
        )
        extra["limits"] = f" ({limits})" if limits else ""
    return fill(t["cause_" + cause["cause"]], lang, **cause, **extra)


def shipment_why(item: dict, lang: str) -> str:
    """Why a shipment (a shortfall item of kind "shipment" or "kit_shipment") is sent."""
    t = TEMPLATES[lang]
    if item["kind"] == "kit_shipment":
        return fill(t["kits_run_out" if item["run_out_day"] else "kits_later"], lang, **item)
    return fill(t["ship_" + item["reason"]], lang, **item)


MINOR = 50  # samples: a day's waiting less than this is summed in one line of the summary


def summary_texts(items: list[dict], lang: str) -> list[str]:
    """The shortfall as the terminal and the one-page report say it: the days whose demand
    was below a target in one line per kind of sample, and the days and streams with fewer
    than MINOR samples waiting (none untested) in one line, each where the first of them
    stood; every other item as :func:`render` says it."""
    t = TEMPLATES[lang]
    groups: dict[str, list[dict]] = {}
    order: list[str | dict] = []  # a group's key where its first item stood, or an item
    for item in items:
        if item["kind"] == "target" and item["cause"] == "demand below target":
            key = "below:" + item["stream_kind"]
        elif item["kind"] == "stream" and item["untested"] == 0 and item["waiting"] < MINOR:
            key = "minor"
        else:
            order.append(item)
            continue
        if key not in groups:
            order.append(key)
        groups.setdefault(key, []).append(item)
    lines = []
    for entry in order:
        if isinstance(entry, dict):
            lines.append(render(entry, lang))
            continue
        group = groups[entry]
        when = days_text(sorted({g["day"] for g in group}), lang)
        when = when[0].upper() + when[1:]  # it starts the line
        if entry == "minor":
            samples = sum(g["waiting"] for g in group)
            lines.append(fill(t["minor"], lang, when=when, minor=MINOR, samples=samples))
        elif len(group) > 1 and len({g["target"] for g in group}) == 1:
            tested = "; ".join(fill("{n:,}", lang, n=g["tested"]) for g in group)
            what = WORDS[lang][group[0]["stream_kind"]]
            target = group[0]["target"]
            lines.append(
                fill(
                    t["target_demand_days"],
                    lang,
                    when=when,
                    what=what,
                    target=target,
                    tested=tested,
                )
            )
        else:
            lines += [render(g, lang) for g in group]
    return lines


def render(item: dict, lang: str) -> str:
    """The sentence for one shortfall item."""
    t = TEMPLATES[lang]
    kind = item["kind"]
    if lang == "vi":  # the streams' Vietnamese names, where the scenario gives them
        item = {k: item.get(k + "_vi", v) for k, v in item.items()}
    if kind == "target" and item["cause"] == "demand below target":
        return fill(t["target_demand"], lang, **item, what=WORDS[lang][item["stream_kind"]])
    if kind in ("target", "stream"):
        first, *rest = [cause_text(c, lang) for c in item["causes"]]
        also = t["also"] + "; ".join(rest) if rest else ""
        what = WORDS[lang][item["stream_kind"]] if kind == "target" else ""
        # screening by risk: the samples not collected, said before the cause
        by_risk = fill(t["by_risk"], lang, **item) if item.get("not_collected") else ""
        return fill(
            t["target_short" if kind == "target" else "stream"],
            lang,
            **item,
            what=what,
            first=first,
            also=also,
            by_risk=by_risk,
        )
    if kind == "standby":
        return fill(t["standby"], lang, **item, when=days_text(item["days"], lang))
    if kind == "national":
        days = "; ".join(fill(t["national_day"], lang, **d) for d in item["by_day"])
        gain = ", ".join(
            f"{item['stream_names'][s]} +{number_text(n, lang)}"
            for s, n in item["streams"].items()
            if n > 0
        )
        return fill(t["national"], lang, **item, days=days, gain=gain or "0")
    if kind in ("shipment", "kit_shipment"):
        return fill(t[kind], lang, **item, why=shipment_why(item, lang))
    if kind == "reagent_day":
        key = "reagent_day_one" if item["labs_out"] == 1 else "reagent_day"
        if item["reactions_short"] < 0.5:  # out at the end: none short within the plan
            key += "_end"
        top = item["largest"]
        return fill(
            t[key], lang, **item, top_name=top["lab_name"], top_short=top["reactions_short"]
        )
    if kind == "reagent":
        nxt = item["next_delivery"]
        if nxt is None:
            until = t["no_delivery"]
        else:
            until = fill(t["until" if item["out_until"] is not None else "after"], lang, **nxt)
        short = fill(t["short"], lang, **item) if item["reactions_short"] >= 0.5 else ""
        key = "reagent_never" if item["never_had"] else "reagent"
        return fill(t[key], lang, **item, until=until, short=short)
    return fill(t[kind], lang, **item)
