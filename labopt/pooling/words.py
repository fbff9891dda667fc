"""The pooling commands' words in English and Vietnamese (`labopt pool ... --lang`): table
headings, titles, the simulation's metrics, and the search's notes (:class:`labopt.notes.Note`
under ``labopt.pooling.words:NOTES``). Design codes (IT, D2, A2M...) are codes in both."""

from __future__ import annotations

from labopt.numbers import fill

TEXT = {
    "en": {
        "columns": "prevalence|algorithm|config|reactions / sample|samples / reaction|PSe|PSp|"
        "PPPV|PNPV|stages|largest pool|H(p)/ET",
        "best": "Best designs ({families}): {configurations:,|configuration|configurations} in "
        "{ms:.1f} ms",
        "by_prevalence": "Optimal design by prevalence (pool size {min_size}..{max_size}, at "
        "most {max_stages:|stage|stages}): {configurations:,|configuration|configurations} in "
        "{ms:.1f} ms",
        "note": "note",
        "simulated": "{design}: {samples:,} simulated samples, seed {seed}",
        "sim_columns": "metric|simulated|std. error|analytic|z",
        "multiplex": "{design}, two-disease assay: {et} reactions per sample (each tests both "
        "diseases), {stages} PCR rounds at most",
        "multiplex_columns": "disease|prevalence|PSe|PSp|PPPV|PNPV",
        "disease": "disease {k}",
        "multiplex_best": "Best designs for a two-disease assay: "
        "{configurations:,|configuration|configurations} in {ms:.1f} ms",
        "multiplex_search_columns": "algorithm|config|reactions / sample|PSe 1|PSp 1|PSe 2|"
        "PSp 2|stages",
        "frontier_title": "The frontier at prevalence {p:g}: the entropy floor is {h:.4f} "
        "reactions per sample",
        "frontier_columns": "rounds|largest pool|best design|reactions / sample|PSe|PSp|H(p)/ET",
        "frontier_floor": "entropy floor H(p)",
        "frontier_x": "largest pool (samples per reaction)",
        "frontier_y": "reactions per sample",
        "frontier_none": "no design meets the accuracy limits",
        "wrote_chart": "wrote {path}",
    },
    "vi": {
        "columns": "tỷ lệ dương tính|thuật toán|cấu hình|phản ứng / mẫu|mẫu / phản ứng|"
        "độ nhạy PSe|độ đặc hiệu PSp|GTTĐ dương PPPV|GTTĐ âm PNPV|số vòng PCR|"
        "cỡ gộp lớn nhất|H(p)/ET",
        "best": "Các cách gộp tốt nhất ({families}): đã đánh giá {configurations:,} cấu hình "
        "trong {ms:.1f} ms",
        "by_prevalence": "Cách gộp tối ưu theo tỷ lệ dương tính (cỡ gộp {min_size}..{max_size}, "
        "tối đa {max_stages} vòng PCR): đã đánh giá {configurations:,} cấu hình trong "
        "{ms:.1f} ms",
        "note": "ghi chú",
        "simulated": "{design}: mô phỏng {samples:,} mẫu, hạt giống ngẫu nhiên {seed}",
        "sim_columns": "chỉ số|mô phỏng|sai số chuẩn|giải tích|z",
        "multiplex": "{design}, xét nghiệm đa mồi hai bệnh: {et} phản ứng mỗi mẫu (mỗi phản ứng "
        "xét nghiệm cả hai bệnh), tối đa {stages} vòng PCR",
        "multiplex_columns": "bệnh|tỷ lệ dương tính|độ nhạy PSe|độ đặc hiệu PSp|GTTĐ dương PPPV|"
        "GTTĐ âm PNPV",
        "disease": "bệnh {k}",
        "multiplex_best": "Các cách gộp tốt nhất cho xét nghiệm đa mồi hai bệnh: đã đánh giá "
        "{configurations:,} cấu hình trong {ms:.1f} ms",
        "multiplex_search_columns": "thuật toán|cấu hình|phản ứng / mẫu|độ nhạy PSe bệnh 1|"
        "độ đặc hiệu PSp bệnh 1|độ nhạy PSe bệnh 2|độ đặc hiệu PSp bệnh 2|số vòng PCR",
        "frontier_title": "Đường biên hiệu quả ở tỷ lệ dương tính {p:g}: giới hạn entropy là "
        "{h:.4f} phản ứng mỗi mẫu",
        "frontier_columns": "số vòng PCR|cỡ gộp lớn nhất|cách gộp tốt nhất|phản ứng / mẫu|"
        "độ nhạy PSe|độ đặc hiệu PSp|H(p)/ET",
        "frontier_floor": "giới hạn entropy H(p)",
        "frontier_x": "cỡ gộp lớn nhất (mẫu mỗi phản ứng)",
        "frontier_y": "phản ứng mỗi mẫu",
        "frontier_none": "không có cách gộp nào đạt giới hạn độ chính xác",
        "wrote_chart": "đã ghi {path}",
    },
}

# the simulation's metrics (labopt.pooling.simulate's fields)
METRICS = {
    "en": {
        "expected_tests_per_sample": "expected reactions per sample",
        "sensitivity": "sensitivity (PSe)",
        "specificity": "specificity (PSp)",
        "ppv": "positive predictive value (PPPV)",
        "npv": "negative predictive value (PNPV)",
    },
    "vi": {
        "expected_tests_per_sample": "phản ứng kỳ vọng mỗi mẫu",
        "sensitivity": "độ nhạy (PSe)",
        "specificity": "độ đặc hiệu (PSp)",
        "ppv": "giá trị tiên đoán dương (PPPV)",
        "npv": "giá trị tiên đoán âm (PNPV)",
    },
}

NOTES = {
    "en": {
        "search_limit": "{family} searched first-stage pools up to {limit:|sample|samples} "
        "(max_size {max_size} is above the search limit)",
        "multiplex_no_d4": "four- and five-round (D4, D5) designs are not searched for a "
        "two-disease assay: the best of IT, D2, D3, A2 and A2M",
        "d4_limits_beyond": "D4 with first-stage pools over {enumerated:,} samples: only each "
        "pool size's design of fewest reactions is tried, and kept if it meets the PSe/PSp "
        "limits; a costlier design of that size that meets them may be missed",
        "informative_limits": "{family}: for each cap on the largest pool only the design of "
        "fewest reactions is tried, and kept if it meets the PSe/PSp limits; a costlier design "
        "that meets them may be missed",
        "id2_limits_budget": "ID2: the exact search under the PSe/PSp limits stopped after "
        "holding {labels:,} partial designs; the best design found that meets them is kept, "
        "and a cheaper one may be missed",
        "id2_limits_pool": "ID2: the exact search under the PSe/PSp limits tried pools up to "
        "{limit} samples (max_size {max_size} is above); larger pools only as each cap's "
        "design of fewest reactions",
        "id2_caps_work": "ID2: each cap's design of fewest reactions was looked for down to "
        "pools of {cap:,} samples (a limit on the search's work for {n:,} risks); designs "
        "with smaller pools are not ranked",
        "d5_limits": "D5: only each first-stage pool size's design of fewest reactions is "
        "tried, and kept if it meets the PSe/PSp limits; a costlier design of that size that "
        "meets them may be missed",
        "needs_stages": "{family} tests in {stages} rounds: allow them with max_stages {stages} "
        "(--max-stages {stages})",
        "ia2_no_array": "IA2: no array of r rows and c columns (each 2 to {max_size:,}, the "
        "largest pool) holds exactly the batch's {n:,} samples",
        "infeasible": "no {families} configuration meets the constraints (pool size "
        "{min_size}..{max_size}, at most {max_stages:|stage|stages}, PSe >= {min_sensitivity:g}, "
        "PSp >= {min_specificity:g}); relax the binding limit: more stages raise PSp but lower "
        "PSe, larger pools lower ET",
    },
    "vi": {
        "search_limit": "{family}: chỉ tìm với nhóm gộp vòng đầu tối đa {limit} mẫu (cỡ gộp "
        "lớn nhất {max_size} vượt giới hạn tìm kiếm)",
        "multiplex_no_d4": "không tìm cách gộp bốn, năm vòng (D4, D5) cho xét nghiệm đa mồi "
        "hai bệnh: đây là cách tốt nhất trong IT, D2, D3, A2 và A2M",
        "d4_limits_beyond": "D4 với nhóm gộp vòng đầu trên {enumerated:,} mẫu: với mỗi cỡ gộp "
        "chỉ thử cách gộp ít phản ứng nhất, và chỉ giữ nếu đạt giới hạn PSe/PSp; có thể bỏ sót "
        "một cách gộp tốn hơn của cỡ đó mà vẫn đạt giới hạn",
        "informative_limits": "{family}: với mỗi giới hạn cỡ gộp lớn nhất chỉ thử cách gộp ít "
        "phản ứng nhất, và chỉ giữ nếu đạt giới hạn PSe/PSp; có thể bỏ sót một cách gộp tốn hơn "
        "mà vẫn đạt giới hạn",
        "id2_limits_budget": "ID2: tìm kiếm chính xác theo giới hạn PSe/PSp dừng khi giữ "
        "{labels:,} cách gộp dở dang; giữ cách gộp tốt nhất đã tìm được mà đạt giới hạn, có "
        "thể bỏ sót một cách rẻ hơn",
        "id2_limits_pool": "ID2: tìm kiếm chính xác theo giới hạn PSe/PSp chỉ thử nhóm gộp tối "
        "đa {limit} mẫu (cỡ gộp lớn nhất {max_size} vượt mức này); nhóm lớn hơn chỉ xét cách "
        "gộp ít phản ứng nhất của mỗi giới hạn cỡ gộp",
        "id2_caps_work": "ID2: cách gộp ít phản ứng nhất của mỗi giới hạn cỡ gộp chỉ được tìm "
        "đến nhóm gộp {cap:,} mẫu (giới hạn khối lượng tính toán cho {n:,} nguy cơ); các cách "
        "gộp với nhóm nhỏ hơn không được xếp hạng",
        "d5_limits": "D5: với mỗi cỡ gộp vòng đầu chỉ thử cách gộp ít phản ứng nhất, và chỉ "
        "giữ nếu đạt giới hạn PSe/PSp; có thể bỏ sót một cách gộp tốn hơn của cỡ đó mà vẫn đạt "
        "giới hạn",
        "needs_stages": "{family} xét nghiệm qua {stages} vòng: hãy cho phép số vòng tối đa "
        "là {stages}",
        "ia2_no_array": "IA2: không có ma trận r hàng, c cột (mỗi chiều từ 2 đến {max_size:,}, "
        "cỡ gộp lớn nhất) chứa vừa đúng {n:,} mẫu của lô",
        "infeasible": "không có cấu hình {families} nào thỏa các ràng buộc (cỡ gộp "
        "{min_size}..{max_size}, tối đa {max_stages} vòng PCR, PSe >= {min_sensitivity:g}, "
        "PSp >= {min_specificity:g}); hãy nới giới hạn đang ràng buộc: thêm vòng PCR làm tăng "
        "PSp nhưng giảm PSe, nhóm gộp lớn hơn làm giảm số phản ứng kỳ vọng (ET)",
    },
}


def say(key: str, lang: str, /, **fields) -> str:
    """The text ``key`` in ``lang`` with its fields filled in the language's number format."""
    return fill(TEXT[lang][key], lang, **fields)


def metric(name: str, lang: str) -> str:
    """A simulated metric's label in ``lang`` (its field name if it has none)."""
    return METRICS.get(lang, {}).get(name, name)
