"""What the pages say, in English and Vietnamese (one entry per text; a test checks that both
languages have every entry and the same fields to fill)."""

from __future__ import annotations

LANGS = ("en", "vi")

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "app": "labopt",
        "skip": "Skip to the content",
        "language": "Language",
        "signin_title": "Sign in",
        "signin_intro": "Sign in with the API key the province's coordinator gave you.",
        "key": "API key",
        "key_hint": "It starts with lbo_ and is kept only in this browser until you sign out.",
        "signin": "Sign in",
        "signout": "Sign out",
        "bad_key": "This key is unknown or was revoked. Check it with your coordinator.",
        "no_key": "Enter your API key.",
        "too_many": "Too many failed sign-ins from this address; try again in {seconds} s.",
        "expired": "Your form was out of date (or came from another page); it was not saved. "
        "Please try again.",
        "signed_in_as": "Signed in: {role} key for {scopes}",
        "role_admin": "administrator",
        "role_coordinator": "coordinator",
        "role_district": "district health centre",
        "role_lab": "laboratory",
        "everything": "every province",
        "scenarios": "Provinces and their plans",
        "no_scenarios": "No province's scenario is open to this key yet.",
        "scenario": "Scenario",
        "province": "Province",
        "start": "First day",
        "enter_day": "Enter the day's samples",
        "day_title": "{province}: samples collected on {date}",
        "day_intro": "Samples each unit collected (or will collect) on this date, per kind of "
        "sample. Leave a box empty for a figure you do not know yet.",
        "date": "Date",
        "show": "Show",
        "unit": "Unit",
        "yesterday": "yesterday: {n}",
        "none_yesterday": "nothing recorded yesterday",
        "save": "Save the day",
        "saved": "Saved: {n} figures for {date}.",
        "unchanged": "Nothing changed: these figures were already recorded.",
        "nothing": "No figure entered: nothing was saved.",
        "not_saved": "Nothing was saved; please correct the fields marked below.",
        "whole": "Enter a whole number of samples, 0 or more.",
        "no_units": "This key reports for no unit of this province.",
        "forbidden": "This key may not do that: {why}",
        "back": "Back to the provinces",
        "not_found": "There is no such scenario, or it is not open to this key.",
    },
    "vi": {
        "app": "labopt",
        "skip": "Chuyển đến nội dung",
        "language": "Ngôn ngữ",
        "signin_title": "Đăng nhập",
        "signin_intro": "Đăng nhập bằng khóa API do điều phối viên của tỉnh cấp.",
        "key": "Khóa API",
        "key_hint": "Khóa bắt đầu bằng lbo_ và chỉ được giữ trong trình duyệt này cho đến khi "
        "bạn đăng xuất.",
        "signin": "Đăng nhập",
        "signout": "Đăng xuất",
        "bad_key": "Khóa này không tồn tại hoặc đã bị thu hồi. Hãy hỏi lại điều phối viên.",
        "no_key": "Hãy nhập khóa API.",
        "too_many": "Quá nhiều lần đăng nhập sai từ địa chỉ này; thử lại sau {seconds} giây.",
        "expired": "Biểu mẫu đã cũ (hoặc gửi từ trang khác) nên chưa được lưu. Hãy thử lại.",
        "signed_in_as": "Đã đăng nhập: khóa {role} cho {scopes}",
        "role_admin": "quản trị",
        "role_coordinator": "điều phối",
        "role_district": "trung tâm y tế huyện",
        "role_lab": "phòng xét nghiệm",
        "everything": "mọi tỉnh",
        "scenarios": "Các tỉnh và kế hoạch",
        "no_scenarios": "Chưa có kịch bản nào của tỉnh mở cho khóa này.",
        "scenario": "Kịch bản",
        "province": "Tỉnh",
        "start": "Ngày đầu",
        "enter_day": "Nhập số mẫu trong ngày",
        "day_title": "{province}: số mẫu lấy ngày {date}",
        "day_intro": "Số mẫu mỗi đơn vị đã lấy (hoặc sẽ lấy) trong ngày này, theo từng loại "
        "mẫu. Để trống ô nào chưa biết số.",
        "date": "Ngày",
        "show": "Xem",
        "unit": "Đơn vị",
        "yesterday": "hôm qua: {n}",
        "none_yesterday": "hôm qua chưa có số liệu",
        "save": "Lưu số liệu ngày",
        "saved": "Đã lưu {n} số liệu cho ngày {date}.",
        "unchanged": "Không có thay đổi: các số liệu này đã được ghi trước đó.",
        "nothing": "Chưa nhập số liệu nào nên chưa lưu gì.",
        "not_saved": "Chưa lưu gì; hãy sửa các ô được đánh dấu bên dưới.",
        "whole": "Nhập số mẫu là số nguyên, từ 0 trở lên.",
        "no_units": "Khóa này không báo cáo cho đơn vị nào của tỉnh.",
        "forbidden": "Khóa này không được làm việc đó: {why}",
        "back": "Quay lại danh sách tỉnh",
        "not_found": "Không có kịch bản này, hoặc kịch bản không mở cho khóa này.",
    },
}


def say(key: str, lang: str, **fields: object) -> str:
    """The text ``key`` in ``lang`` with its fields filled."""
    text = TEXT[lang][key]
    return text.format(**fields) if fields else text
