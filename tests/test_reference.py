"""Reference data: the Suzhou districts, the GB/T 4754-2017 manufacturing divisions, the fixed vocabularies, and
the check of the 统一社会信用代码 (GB 32100-2015)."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessment.reference import (
    CREDIT_CODE_ALPHABET,
    PRODUCTION_TYPES,
    SIZE_CLASSES,
    city,
    credit_code_check_character,
    district,
    districts,
    industries,
    industry,
    validate_credit_code,
)

# --- districts ---------------------------------------------------------------------------------------------

DISTRICTS = [
    ("gusu", "姑苏区", "Gusu"),
    ("snd", "虎丘区(苏州高新区)", "Huqiu (Suzhou New District)"),
    ("wuzhong", "吴中区", "Wuzhong"),
    ("xiangcheng", "相城区", "Xiangcheng"),
    ("wujiang", "吴江区", "Wujiang"),
    ("sip", "苏州工业园区", "Suzhou Industrial Park"),
    ("changshu", "常熟市", "Changshu"),
    ("zhangjiagang", "张家港市", "Zhangjiagang"),
    ("kunshan", "昆山市", "Kunshan"),
    ("taicang", "太仓市", "Taicang"),
]


def test_the_districts_are_those_of_suzhou_in_order():
    assert (city().zh, city().en) == ("苏州市", "Suzhou")
    assert [(d.code, d.zh, d.en) for d in districts()] == DISTRICTS


@pytest.mark.parametrize(("code", "zh", "en"), DISTRICTS, ids=[row[0] for row in DISTRICTS])
def test_a_district_is_found_by_its_code(code, zh, en):
    found = district(code)
    assert (found.code, found.label("zh"), found.label("en")) == (code, zh, en)


@pytest.mark.parametrize(("content", "expected"), [
    ("city: {zh: 无锡市, en: Wuxi}\ndistricts:\n  - {code: binhu, zh: 滨湖区, en: Binhu}\n", None),
    ("city: {zh: 无锡市, en: Wuxi}\ndistricts:\n  - {code: a, zh: 甲, en: A}\n  - {code: a, zh: 乙, en: B}\n",
     "districts[1]: duplicate code 'a'"),
    ("city: {zh: 无锡市, en: Wuxi}\ndistricts:\n  - {code: a, en: A}\n", "districts.0.zh: Field required"),
    ("city: {zh: 无锡市, en: Wuxi}\ndistricts: []\n", "districts: List should have at least 1 item"),
    ("districts: [unclosed\n", "cannot be read"),
])
def test_another_city_brings_its_own_districts_file(tmp_path, content, expected):
    path = tmp_path / "districts.yaml"
    path.write_text(content, encoding="utf-8")
    if expected is None:
        assert city(path).en == "Wuxi"
        assert district("binhu", path).zh == "滨湖区"
        assert [d.code for d in districts(path)] == ["binhu"]
        return
    with pytest.raises(ValueError, match="districts") as caught:
        districts(path)
    assert str(caught.value).startswith(f"{path.resolve()}: ")
    assert expected in str(caught.value)


def test_the_list_handed_out_is_a_copy():
    districts().clear()
    industries().clear()
    assert len(districts()) == 10
    assert len(industries()) == 31


# --- industries --------------------------------------------------------------------------------------------

INDUSTRY_NAMES = {
    "C13": "农副食品加工业",
    "C14": "食品制造业",
    "C15": "酒、饮料和精制茶制造业",
    "C16": "烟草制品业",
    "C17": "纺织业",
    "C18": "纺织服装、服饰业",
    "C19": "皮革、毛皮、羽毛及其制品和制鞋业",
    "C20": "木材加工和木、竹、藤、棕、草制品业",
    "C21": "家具制造业",
    "C22": "造纸和纸制品业",
    "C23": "印刷和记录媒介复制业",
    "C24": "文教、工美、体育和娱乐用品制造业",
    "C25": "石油、煤炭及其他燃料加工业",
    "C26": "化学原料和化学制品制造业",
    "C27": "医药制造业",
    "C28": "化学纤维制造业",
    "C29": "橡胶和塑料制品业",
    "C30": "非金属矿物制品业",
    "C31": "黑色金属冶炼和压延加工业",
    "C32": "有色金属冶炼和压延加工业",
    "C33": "金属制品业",
    "C34": "通用设备制造业",
    "C35": "专用设备制造业",
    "C36": "汽车制造业",
    "C37": "铁路、船舶、航空航天和其他运输设备制造业",
    "C38": "电气机械和器材制造业",
    "C39": "计算机、通信和其他电子设备制造业",
    "C40": "仪器仪表制造业",
    "C41": "其他制造业",
    "C42": "废弃资源综合利用业",
    "C43": "金属制品、机械和设备修理业",
}
PROCESS_INDUSTRIES = {"C13", "C14", "C15", "C16", "C17", "C22", "C25", "C26", "C27", "C28", "C30", "C31", "C32"}


def test_the_industries_are_the_31_manufacturing_divisions_in_order():
    assert [i.code for i in industries()] == [f"C{n}" for n in range(13, 44)]
    for entry in industries():
        assert entry.zh.strip(), entry.code
        assert entry.en.strip(), entry.code
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in entry.en), entry.code
    assert len({i.en for i in industries()}) == 31


@pytest.mark.parametrize(("code", "zh"), INDUSTRY_NAMES.items())
def test_an_industry_carries_its_official_chinese_name(code, zh):
    assert industry(code).zh == zh


@pytest.mark.parametrize("code", INDUSTRY_NAMES)
def test_an_industry_suggests_a_production_type(code):
    expected = "process" if code in PROCESS_INDUSTRIES else "discrete"
    assert industry(code).production_type == expected


@pytest.mark.parametrize(("lookup", "code", "expected"), [
    (district, "suzhou", "unknown district code 'suzhou'"),
    (district, "", "unknown district code ''"),
    (industry, "C12", "unknown industry code 'C12'"),
    (industry, "c13", "unknown industry code 'c13'"),
])
def test_an_unknown_code_is_named(lookup, code, expected):
    with pytest.raises(KeyError) as caught:
        lookup(code)
    assert caught.value.args == (expected,)


# --- fixed vocabularies ------------------------------------------------------------------------------------


def test_the_size_classes_and_production_types():
    assert [(s.code, s.zh, s.en) for s in SIZE_CLASSES] == [
        ("large", "大型", "Large"),
        ("medium", "中型", "Medium"),
        ("small", "小型", "Small"),
        ("micro", "微型", "Micro"),
    ]
    assert [(p.code, p.zh) for p in PRODUCTION_TYPES] == [("discrete", "离散型"), ("process", "流程型")]
    assert {p.code for p in PRODUCTION_TYPES} == {i.production_type for i in industries()}


# --- 统一社会信用代码 --------------------------------------------------------------------------------------

GOOD_CODES = [
    # (what, as typed, normalised); the check characters of the made-up codes were computed once and are pinned
    ("made up, Suzhou enterprise", "91320594MA1MXXXXXW", "91320594MA1MXXXXXW"),
    ("made up, digits only", "91320500000000000R", "91320500000000000R"),
    ("made up, institution", "121000004000000010", "121000004000000010"),
    ("made up, letters", "Y1320594ABCDEFGHJA", "Y1320594ABCDEFGHJA"),
    ("made up, social organisation", "5132050000KLMNPQRH", "5132050000KLMNPQRH"),
    ("made up, check value 0 wraps", "000000000000000000", "000000000000000000"),
    ("made up, all highest values", "YYYYYYYYYYYYYYYYYT", "YYYYYYYYYYYYYYYYYT"),
    ("lower case and spaces", " 93320583ma1wtuxy0c\n", "93320583MA1WTUXY0C"),
    ("typed in groups", "9132 0505 MA1Q 8K2L 76", "91320505MA1Q8K2L76"),
    # published codes of well-known companies (check character verified by the algorithm)
    ("Alibaba (China) Co., Ltd.", "91330100799655058B", "91330100799655058B"),
    ("Huawei Technologies Co., Ltd.", "914403001922038216", "914403001922038216"),
    ("Shenzhen Tencent Computer Systems", "91440300708461136T", "91440300708461136T"),
]


@pytest.mark.parametrize(("what", "typed", "normalised"), GOOD_CODES, ids=[row[0] for row in GOOD_CODES])
def test_a_good_credit_code_is_returned_normalised(what, typed, normalised):
    assert validate_credit_code(typed) == normalised
    assert credit_code_check_character(normalised[:17]) == normalised[17]


BAD_CODES = [
    # (what is wrong, code, expected words of the message)
    ("empty", "", "has 18 characters; '' has 0"),
    ("one short", "91330100799655058", "has 18 characters; '91330100799655058' has 17"),
    ("one too many", "91330100799655058BB", "'91330100799655058BB' has 19"),
    ("letter I", "91330100I99655058B", "character 9 ('I') is not allowed"),
    ("letter O", "O1330100799655058B", "character 1 ('O') is not allowed"),
    ("letter Z", "9133010079965505ZB", "character 17 ('Z') is not allowed"),
    ("letter S", "91330100799655058S", "character 18 ('S') is not allowed"),
    ("letter V", "91V30100799655058B", "character 3 ('V') is not allowed"),
    ("punctuation", "91330100-99655058B", "character 9 ('-') is not allowed"),
    ("full-width digit", "９1330100799655058B", "character 1 ('９') is not allowed"),
    ("wrong check character", "91330100799655058C", "wrong check character 'C' (position 18); expected 'B'"),
    ("two digits swapped", "91330100799655085B", "wrong check character 'B' (position 18); expected"),
    ("check digit for 0", "000000000000000001", "wrong check character '1' (position 18); expected '0'"),
]


@pytest.mark.parametrize(("what", "code", "expected"), BAD_CODES, ids=[row[0] for row in BAD_CODES])
def test_a_bad_credit_code_is_refused_saying_why(what, code, expected):
    with pytest.raises(ValueError, match=re.escape(expected)):
        validate_credit_code(code)


@pytest.mark.parametrize(("body", "expected"), [
    ("9133010079965505", "computed from 17 characters; '9133010079965505' has 16"),
    ("9133010079965505I", "character 17 ('I') is not allowed"),
])
def test_the_check_character_needs_17_good_characters(body, expected):
    with pytest.raises(ValueError, match=re.escape(expected)):
        credit_code_check_character(body)


@given(st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=17, max_size=17))
def test_a_body_with_its_check_character_validates_and_no_other_does(body):
    check = credit_code_check_character(body)
    assert validate_credit_code(body + check) == body + check
    for other in CREDIT_CODE_ALPHABET.replace(check, ""):
        with pytest.raises(ValueError, match=rf"wrong check character '{other}' .* expected '{check}'$"):
            validate_credit_code(body + other)
