"""The plan's notes (a unit no lab can reach, a solver stopped by its time limit...) in English
and Vietnamese (:mod:`labopt.notes`), and the solver's words."""

from __future__ import annotations

from labopt.notes import Note, note_text

__all__ = ["NOTES", "SOLVER_WORDS", "Note", "note", "note_text"]

NOTES = {
    "en": {
        "unreachable": "unit '{unit}' ({name}) has {samples:,|sample|samples} but no lab within "
        "policy.max_travel_hours = {limit:,g} h{where}: none of them is tested (they wait, then "
        "count as untested); the nearest lab is '{nearest_lab}' ({lab_name}) at about "
        "{hours:.2f} h: {change}",
        "in_travel": " in travel.csv",
        "raise_limit": "raise max_travel_hours to {enough:.2f} h or more to test them there",
        "add_travel_row": "add a travel.csv row for it (estimated from coordinates), and raise "
        "max_travel_hours if its road time is over the limit",
        "time_limit": "solver status {status}: best plan found within the time limit; the LP's "
        "relative gap {lp_gap:.2%}, this whole-sample plan's {gap:.2%}",
        "greedy_instead": "the {what} stopped without a plan ({status}, time limit {limit:g} s): "
        "this is the greedy plan instead{bound}",
        "greedy_bound": "; relative gap {gap:.2%} to the LP's lower bound",
        "flow_solver": "min-cost flow",
        "lp_solver": "LP solver",
        "greedy_by_risk": "screening by risk is the LP's: the greedy rule plans the demand as "
        "given",
        "note": "note",
        "pricing_round": "pricing round {round}: master solved in {secs:.2f} s ({iterations:,} "
        "iterations; within {gap:.2%} of the optimum), {then}",
        "pricing_optimal": "no lab arc left out prices in: optimal",
        "pricing_stopped": "stopped at the round limit",
        "pricing_added": "{arcs:,} lab arcs added to its {cols:,|column|columns}",
        "solved": "{how} solved in {secs:.2f} s ({variables:,} allocation variables): {status}",
        "by_flow": "the min-cost flow",
        "by_lp": "the whole LP",
    },
    "vi": {
        "unreachable": "địa phương '{unit}' ({name}) có {samples:,} mẫu nhưng không có phòng "
        "xét nghiệm nào trong giới hạn policy.max_travel_hours = {limit:,g} giờ{where}: không "
        "mẫu nào được xét nghiệm (mẫu phải chờ, rồi tính là không được xét nghiệm); phòng gần "
        "nhất là '{nearest_lab}' ({lab_name}), khoảng {hours:.2f} giờ: {change}",
        "in_travel": " trong travel.csv",
        "raise_limit": "nâng max_travel_hours lên {enough:.2f} giờ trở lên để xét nghiệm mẫu ở đó",
        "add_travel_row": "thêm một dòng travel.csv cho địa phương này (ước tính từ tọa độ), và "
        "nâng max_travel_hours nếu thời gian đi đường vượt giới hạn",
        "time_limit": "bộ giải dừng ({status}): kế hoạch tốt nhất tìm được trong thời gian cho "
        "phép; khoảng cách tương đối của LP {lp_gap:.2%}, của kế hoạch mẫu nguyên {gap:.2%}",
        "greedy_instead": "{what} dừng mà chưa có kế hoạch ({status}, giới hạn thời gian "
        "{limit:g} giây): đây là kế hoạch theo quy tắc phân bổ lần lượt{bound}",
        "greedy_bound": "; cách cận dưới của LP một khoảng tương đối {gap:.2%}",
        "flow_solver": "bộ giải luồng chi phí nhỏ nhất",
        "lp_solver": "bộ giải LP",
        "greedy_by_risk": "sàng lọc theo nguy cơ chỉ có ở LP: quy tắc phân bổ lần lượt lập kế "
        "hoạch theo nhu cầu ban đầu",
        "note": "ghi chú",
        "pricing_round": "vòng sinh cột {round}: bài toán chủ giải trong {secs:.2f} giây "
        "({iterations:,} bước lặp; cách tối ưu không quá {gap:.2%}), {then}",
        "pricing_optimal": "không còn cung nào có lợi: tối ưu",
        "pricing_stopped": "dừng do hết số vòng",
        "pricing_added": "thêm {arcs:,} cung phòng xét nghiệm vào {cols:,} cột",
        "solved": "{how} giải trong {secs:.2f} giây ({variables:,} biến phân bổ): {status}",
        "by_flow": "bài toán luồng chi phí nhỏ nhất",
        "by_lp": "bài toán LP đầy đủ",
    },
}


# the solver's method and status, as the terminal and the report say them
SOLVER_WORDS = {
    "en": {},
    "vi": {
        "lp": "quy hoạch tuyến tính (lp)",
        "network": "luồng chi phí nhỏ nhất (network)",
        "greedy": "quy tắc phân bổ lần lượt (greedy)",
        "OPTIMAL": "tối ưu đã chứng minh",
        "TIME_LIMIT": "dừng do hết thời gian",
        "ROUND_LIMIT": "dừng do hết số vòng sinh cột",
        "INFEASIBLE": "không khả thi",
        "UNBOUNDED": "không bị chặn",
    },
}


# the solver's status in a note, as each language says it
FIELD_WORDS = {"status": SOLVER_WORDS}


def note(key: str, /, **fields) -> Note:
    """A plan's note: NOTES[lang][key] with ``fields``."""
    return Note("labopt.schedule.notes:NOTES", key, **fields)
