"""Realistic Chinese complaint and report texts for demo data and benchmarks.

Everything here is written for Qingfeng: templates and vocabulary are our own, so the
generator works on any machine. When the shared data folder is present (development and
CI), `iter_shared_messages` reads the public message-board texts from it instead; those
texts are never copied into the repository.

A text is built as a *skeleton*: a tuple of pieces, each either literal text or a `Slot`
(the reported person's name, the county, township, village …). The same skeleton renders
into many different texts by changing what fills the slots, and its literal pieces repeat
across skeletons, so a bulk generator can tokenise each distinct piece once.
"""

from __future__ import annotations

import csv
import os
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from string import Formatter

from qingfeng.cases.choices import Gender, ItemType, PartyKind, Rank

# --- pieces and slots -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Slot:
    """A place in a skeleton filled per case (see `SLOTS`)."""

    name: str


# name: the reported person; county: the region of the office; town: township or sub-district;
# village: village or community (without 村/社区); city: the city above the county.
# The last three are derived from town and county by `make_fills`.
SLOTS = ("name", "county", "town", "village", "city", "town_gov", "town_head", "county_head")
SLOT_INDEX = {name: i for i, name in enumerate(SLOTS)}
_SLOT_OBJECTS = {name: Slot(name) for name in SLOTS}

Piece = str | Slot
Pieces = tuple[Piece, ...]


@lru_cache(maxsize=4096)
def _parse(template: str) -> tuple[tuple[str, str | None], ...]:
    return tuple((literal, name) for literal, name, _spec, _conv in Formatter().parse(template))


def expand(template: str, values: Mapping[str, object] | None = None) -> list[Piece]:
    """Pieces of a template: literal chunks, slots, and values (a value may itself be pieces)."""
    out: list[Piece] = []
    for literal, name in _parse(template):
        if literal:
            out.append(literal)
        if name is None:
            continue
        if name in _SLOT_OBJECTS:
            out.append(_SLOT_OBJECTS[name])
            continue
        value = (values or {})[name]
        if isinstance(value, tuple | list):
            out.extend(value)
        elif value != "":
            out.append(str(value))
    return out


def render(pieces: Sequence[Piece], fills: Mapping[str, str]) -> str:
    return "".join(fills[p.name] if isinstance(p, Slot) else p for p in pieces)


def format_template(pieces: Sequence[Piece]) -> str:
    """A `str.format` template with positional fields in `SLOTS` order (fast bulk rendering)."""
    parts = []
    for p in pieces:
        if isinstance(p, Slot):
            parts.append(f"{{{SLOT_INDEX[p.name]}}}")
        else:
            parts.append(p.replace("{", "{{").replace("}", "}}"))
    return "".join(parts)


# --- vocabulary -------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛")
_MALE_CHARS = "建国军伟强磊勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆成忠志德海林春生新文兵永庆福贵长兴"
_FEMALE_CHARS = "芳娜敏静丽艳娟霞秀英玲红梅兰琴云凤洁萍雪燕丹莉婷慧巧桂珍花月春"

_TOWN_STEMS = _words(
    "城关 新城 东关 西关 石桥 龙泉 白沙 青山 马坊 柳林 杨集 李庄 高桥 双河 永安 "
    "太平 长兴 和平 红旗 三里河 黄土岭 枣林 沙河 临河 古城 金山 铁佛 清水 平安 "
    "大王庄 官庄 河口 东湖 南湖 北塘 柏树 槐树 梨园 新华 向阳"
)
_VILLAGE_STEMS = _words(
    "王家 李家 张庄 后营 前进 新民 大洼 小河 东沟 西岭 柳树屯 河湾 桃园 杏花 沙坡 "
    "黄泥 石门 马家堡 高家 刘营 赵庄 孙家湾 陈家岭 杨柳 丰收 团结 胜利 光明 兴隆 "
    "富强 双塔 龙王庙 油坊 窑上 堡子 周家 魏庄 田家 新村 北关"
)
_ANON_COUNTIES = _words("清河 安平 永宁 长乐 丰泽 临川 武陵 平阳 宁远 怀安 云溪 石城 龙山 桃源 太和")

_PROVINCE_ABBR = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川黔滇藏陕甘青宁新"


def person_name(rng: random.Random) -> tuple[str, str]:
    """A plausible full name and its gender code."""
    surname = rng.choice(_COMPOUND_SURNAMES) if rng.random() < 0.01 else rng.choice(SURNAMES)
    male = rng.random() < 0.78  # reported cadres are mostly men
    chars = _MALE_CHARS if male else _FEMALE_CHARS
    given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.7 else "")
    return surname + given, (Gender.MALE if male else Gender.FEMALE).value


def town_name(rng: random.Random) -> str:
    stem = rng.choice(_TOWN_STEMS)
    return stem + rng.choices(("镇", "乡", "街道"), (6, 2, 2))[0]


def village_name(rng: random.Random) -> str:
    return rng.choice(_VILLAGE_STEMS)


def county_name(rng: random.Random) -> str:
    return rng.choice(_ANON_COUNTIES) + rng.choice(("县", "县", "区", "市"))


def make_fills(*, name: str, county: str, town: str, village: str, city: str = "") -> dict[str, str]:
    """Slot values for one case, including the ones derived from the town and county names."""
    if town.endswith("街道"):
        town_gov, town_head = town + "办事处", "主任"
    elif town.endswith("乡"):
        town_gov, town_head = town + "人民政府", "乡长"
    else:
        town_gov, town_head = town + "人民政府", "镇长"
    county_head = {"区": "区长", "市": "市长", "旗": "旗长"}.get(county[-1:], "县长")
    return {
        "name": name,
        "county": county,
        "town": town,
        "village": village,
        "city": city or county,
        "town_gov": town_gov,
        "town_head": town_head,
        "county_head": county_head,
    }


# --- reported parties -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Post:
    post: str
    rank: str
    weight: int = 1
    short: str = ""  # the form used in titles, 村支书 for 村党支部书记


@dataclass(frozen=True)
class _PartyType:
    units: tuple[str, ...]  # templates of the formal unit name
    posts: tuple[_Post, ...]
    nature: str
    label: str = ""  # how the text names the place, when it differs from the unit


R = Rank
_VILLAGE_POSTS = (
    _Post("村党支部书记", R.VILLAGE, 5, "村支书"),
    _Post("村委会主任", R.VILLAGE, 4, "村主任"),
    _Post("村党支部书记兼村委会主任", R.VILLAGE, 3, "村支书"),
    _Post("村会计", R.VILLAGE, 2),
    _Post("村文书", R.VILLAGE, 1),
    _Post("村务监督委员会主任", R.VILLAGE, 1, "村监委会主任"),
    _Post("村民小组长", R.VILLAGE, 2),
)
_BUREAU_POSTS = (
    _Post("局长", R.TOWNSHIP, 4),
    _Post("党组书记、局长", R.TOWNSHIP, 2, "局长"),
    _Post("副局长", R.TOWNSHIP, 4),
    _Post("股长", R.ORDINARY, 3),
    _Post("执法大队大队长", R.ORDINARY, 2, "大队长"),
    _Post("办公室主任", R.ORDINARY, 1),
    _Post("工作人员", R.ORDINARY, 3),
)
_PARTY_TYPES: dict[str, _PartyType] = {
    "village": _PartyType(
        ("{town}{village}村民委员会", "{town}{village}村党支部"), _VILLAGE_POSTS, "村（社区）", "{town}{village}村"
    ),
    "community": _PartyType(
        ("{town}{village}社区居民委员会",),
        (
            _Post("社区党委书记", R.COMMUNITY, 3),
            _Post("社区居委会主任", R.COMMUNITY, 3, "社区主任"),
            _Post("社区网格员", R.COMMUNITY, 2, "网格员"),
        ),
        "村（社区）",
        "{town}{village}社区",
    ),
    "township": _PartyType(
        ("{town_gov}",),
        (
            _Post("党委书记", R.TOWNSHIP, 3),
            _Post("{town_head}", R.TOWNSHIP, 3),
            _Post("副{town_head}", R.TOWNSHIP, 4),
            _Post("纪委书记", R.TOWNSHIP, 1),
            _Post("人大主席", R.TOWNSHIP, 1),
            _Post("财政所所长", R.ORDINARY, 2),
            _Post("农业综合服务中心主任", R.ORDINARY, 2),
            _Post("自然资源所所长", R.ORDINARY, 1),
            _Post("包村干部", R.ORDINARY, 2),
        ),
        "党政机关",
        "{town}",
    ),
    "county": _PartyType(
        ("{county}人民政府",),
        (_Post("副{county_head}", R.COUNTY, 3), _Post("{county_head}", R.COUNTY, 1)),
        "党政机关",
        "{county}",
    ),
    "school": _PartyType(
        ("{county}第一中学", "{county}实验小学", "{town}中心学校", "{county}职业中专"),
        (_Post("校长", R.INSTITUTION, 4), _Post("副校长", R.INSTITUTION, 2), _Post("总务处主任", R.INSTITUTION, 2)),
        "事业单位",
    ),
    "hospital": _PartyType(
        ("{county}人民医院", "{county}中医医院", "{town}卫生院", "{county}妇幼保健院"),
        (_Post("院长", R.INSTITUTION, 4), _Post("副院长", R.INSTITUTION, 2), _Post("药剂科主任", R.INSTITUTION, 1)),
        "事业单位",
    ),
    "enterprise": _PartyType(
        (
            "{county}城市建设投资有限公司",
            "{county}国有资产投资经营有限公司",
            "{county}自来水有限公司",
            "{county}交通建设投资有限公司",
        ),
        (_Post("董事长", R.ENTERPRISE, 2), _Post("总经理", R.ENTERPRISE, 3), _Post("副总经理", R.ENTERPRISE, 2)),
        "国有企业",
    ),
    "granary": _PartyType(
        ("{county}粮食储备库", "{county}粮食购销有限公司"),
        (_Post("主任", R.ENTERPRISE, 3), _Post("保管员", R.ENTERPRISE, 1), _Post("总经理", R.ENTERPRISE, 2)),
        "国有企业",
    ),
}
_BUREAUS = _words(
    "自然资源局 住房和城乡建设局 农业农村局 市场监督管理局 生态环境分局 教育局 卫生健康局 "
    "民政局 人力资源和社会保障局 交通运输局 水利局 财政局 乡村振兴局 城市管理综合执法局 "
    "应急管理局 林业局 医疗保障局 发展和改革局"
)


@dataclass(frozen=True)
class PartyHint:
    """The reported party as the text names it. Unit and post are pieces (they name places)."""

    kind: str
    post: Pieces
    post_short: Pieces
    rank: str
    unit: Pieces
    label: Pieces
    unit_nature: str
    gender: str = ""


def _choose_party(rng: random.Random, spec: str, *, organisation_ok: bool = False) -> PartyHint:
    key, _, bureaus = spec.partition(":")
    if key == "bureau":
        bureau = rng.choice(bureaus.split("|") if bureaus else _BUREAUS)
        unit = tuple(expand("{county}" + bureau))
        ptype = _PartyType((), _BUREAU_POSTS, "党政机关")
    else:
        ptype = _PARTY_TYPES[key]
        unit = tuple(expand(rng.choice(ptype.units)))
    label = tuple(expand(ptype.label)) if ptype.label else unit
    if organisation_ok and rng.random() < 0.12:
        return PartyHint(PartyKind.ORGANISATION.value, (), (), "", unit, label, ptype.nature)
    post = rng.choices(ptype.posts, [p.weight for p in ptype.posts])[0]
    post_pieces = tuple(expand(post.post))
    short = tuple(expand(post.short)) if post.short else post_pieces
    return PartyHint(PartyKind.PERSON.value, post_pieces, short, str(post.rank), unit, label, ptype.nature)


# --- problems ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    shorts: tuple[str, ...]  # what the title calls the problem
    category: str  # a code of cases/data/categories.csv
    tags: tuple[str, ...]  # codes of cases/data/tags.csv
    parties: tuple[str, ...]
    keywords: tuple[str, ...]
    facts: tuple[str, ...]  # sentences; two or three are used
    organisation_ok: bool = False


_PROBLEMS: tuple[_Problem, ...] = (
    _Problem(
        ("贪污挪用扶贫资金", "截留挪用衔接资金", "虚报冒领扶贫项目资金"),
        "mass.poverty_funds",
        ("rural",),
        ("village", "village", "township"),
        ("扶贫资金", "衔接资金", "虚报冒领"),
        (
            "{date}，{village}村申报的{project}项目获批衔接资金{amount}万元，但实际完成的工程量还不到一半。",
            "{name}伙同村会计虚开发票、虚报工程量，把结余资金转到其亲属账户上。",
            "扶贫产业分红款{amount}万元至今没有发到脱贫户手中，村里的公示栏也从来没有公示过。",
            "{project}项目验收时只拍了几张照片，账上却列支了{amount}万元。",
            "群众多次到村委会询问资金去向，{name}一直推说“上面还没拨下来”。",
        ),
    ),
    _Problem(
        ("虚报冒领惠农补贴", "违规发放补贴", "套取耕地地力保护补贴"),
        "mass.poverty_funds",
        ("rural", "food_security"),
        ("village", "township", "bureau:农业农村局|财政局"),
        ("惠农补贴", "耕地地力保护补贴", "种粮补贴"),
        (
            "{name}把已经去世多年的{count}名村民继续登记在补贴名册上，每年冒领耕地地力保护补贴。",
            "{date}发放种粮补贴时，{name}给自己亲属多报了{mu}亩种植面积。",
            "危房改造补助本应发给困难户，却被{name}的亲戚领走了，每户{money}元。",
            "村民的退耕还林补助被扣下一部分，说是“管理费”，每亩扣{money}元。",
        ),
    ),
    _Problem(
        ("优亲厚友违规办理低保", "违规审批低保", "低保评定不公"),
        "mass",
        ("social_security", "rural"),
        ("village", "community", "bureau:民政局"),
        ("低保", "优亲厚友", "民主评议"),
        (
            "{name}的{relative}家有小轿车、在县城有楼房，却一直吃着低保。",
            "村里真正困难的{count}户人家申请低保多次都没有批下来，评议会也没有召开过。",
            "{date}低保复核时，{name}私自调整了名单，把自己的亲戚加了进去。",
            "有的低保户每年要把一部分低保金“返还”给{name}，否则第二年就被取消。",
        ),
    ),
    _Problem(
        ("违规收受礼金", "借操办婚丧喜庆事宜敛财", "违规收受管理服务对象礼金"),
        "integrity.gifts",
        (),
        ("township", "bureau", "county", "school", "hospital"),
        ("收受礼金", "大操大办", "婚丧喜庆"),
        (
            "{date}，{name}借其{relative}结婚之机大操大办，在{restaurant}摆了{count}桌酒席。",
            "前来随礼的大多是下属和管理服务对象，每人{money}元到{money2}元不等。",
            "逢年过节，辖区企业老板都要给{name}送购物卡，少则{money}元，多则上万元。",
            "{name}的母亲去世时，收受礼金{amount}万元，其中不少是工程老板送的。",
        ),
    ),
    _Problem(
        ("公车私用", "违规使用公务用车", "公车私驾"),
        "integrity.vehicles",
        (),
        ("township", "bureau", "enterprise"),
        ("公车私用", "公务用车"),
        (
            "{name}长期驾驶单位公务用车（车牌号{plate}）接送孩子上下学。",
            "{date}的周末，有人看见车牌号为{plate}的公务用车停在{restaurant}门口。",
            "节假日{name}开着公车回老家，加油费还拿回单位报销。",
        ),
    ),
    _Problem(
        ("违规公款吃喝", "用公款大吃大喝", "违规接受宴请"),
        "integrity.banquets",
        (),
        ("township", "bureau", "enterprise", "school"),
        ("公款吃喝", "违规宴请"),
        (
            "{name}经常带人在{restaurant}吃饭，饭后由施工单位老板结账。",
            "{date}以来，{name}单位在{restaurant}的招待费累计超过{amount}万元，都是以“会议费”名义报销的。",
            "每次上级来检查，{name}都安排高档酒水，一顿饭花费{money}多元。",
        ),
    ),
    _Problem(
        ("吃拿卡要", "办事刁难群众", "索要好处费"),
        "mass.extortion",
        (),
        ("bureau:市场监督管理局|自然资源局|住房和城乡建设局|城市管理综合执法局", "township", "village"),
        ("吃拿卡要", "刁难群众", "好处费"),
        (
            "我去办理{permit}，材料都齐全，{name}却以各种理由一拖再拖，暗示要“意思意思”。",
            "{date}，我给{name}送了{money}元之后，手续第二天就批下来了。",
            "个体户都知道，不给{name}送烟送酒，检查就会“查出问题”。",
            "村民盖房审批要先交{money}元“协调费”，不给就不签字。",
        ),
        organisation_ok=True,
    ),
    _Problem(
        ("违法占用耕地", "违规占用基本农田建房", "违规批地"),
        "duty.dereliction",
        ("farmland", "land"),
        ("village", "township", "bureau:自然资源局"),
        ("占用耕地", "基本农田", "违法用地"),
        (
            "{date}开始，有老板在{village}村的基本农田上建起了厂房，占地约{mu}亩。",
            "{name}收了好处后，不但不制止，还帮着补办了临时用地手续。",
            "群众多次向{county}自然资源局举报，执法人员来了看一眼就走了。",
            "被占的耕地都是多年的良田，现在全部硬化成了水泥地。",
        ),
        organisation_ok=True,
    ),
    _Problem(
        ("食品安全监管失职", "对无证餐馆监管不力", "校园食品安全监管缺位"),
        "duty.dereliction",
        ("health",),
        ("bureau:市场监督管理局",),
        ("食品安全", "监管失职", "无证经营"),
        (
            "{town}一带有{count}家小餐馆长期无证经营，后厨卫生条件极差。",
            "{date}，{town}中心学校有{count}名学生吃了食堂的饭后腹泻住院。",
            "市场监管所的人每次检查前都先打招呼，检查走个过场。",
            "{name}和涉事食品厂老板关系密切，群众举报后一直没有下文。",
        ),
        organisation_ok=True,
    ),
    _Problem(
        ("违规插手工程项目", "工程项目违规发包", "操纵工程招投标"),
        "duty.benefit_transfer",
        ("housing",),
        ("township", "bureau:住房和城乡建设局|交通运输局|水利局", "enterprise"),
        ("工程项目", "招投标", "利益输送"),
        (
            "{project}工程投资{amount}万元，{name}把工程化整为零，直接交给其{relative}开办的公司施工。",
            "招标时几家公司的投标文件连错别字都一样，明显是围标串标。",
            "工程完工不到一年就出现了开裂，验收却是“优良”。",
            "{company}没有相应资质，却在{name}的关照下中标了{count}个项目。",
        ),
    ),
    _Problem(
        ("利用职权为亲属谋利", "违规经商办企业", "亲属利用其影响经商"),
        "integrity.business",
        (),
        ("township", "bureau", "county", "hospital"),
        ("违规经商", "亲属谋利"),
        (
            "{name}的{relative}开了一家{company}，单位的{thing}业务全部由这家公司承接。",
            "{name}本人在{company}有股份，每年分红{amount}万元。",
            "辖区内的{thing}项目，不找{name}的{relative}根本拿不到。",
        ),
    ),
    _Problem(
        ("村委换届拉票贿选", "违规干预换届选举"),
        "organisational",
        ("rural",),
        ("village", "township"),
        ("换届选举", "拉票贿选"),
        (
            "{date}村“两委”换届时，{name}找人挨家挨户拉票，每票给{money}元。",
            "选举当天，有人拿着几十张选票代写，监票人员视而不见。",
            "对不投他票的村民，{name}扬言以后办事“走着瞧”。",
        ),
    ),
    _Problem(
        ("违规选人用人", "违规招录亲属", "违规安排亲属工作"),
        "organisational",
        (),
        ("bureau", "township", "school", "hospital"),
        ("选人用人", "违规招录"),
        (
            "{name}未经公开招聘，就把其{relative}安排到单位上班，每月领工资。",
            "{date}单位招聘{count}名工作人员，笔试成绩靠前的都没有录取，录取的多是领导的亲戚。",
            "{name}的{relative}没有上过一天班，却一直在单位领取工资和补贴。",
        ),
    ),
    _Problem(
        ("收受贿赂", "收受老板好处", "权钱交易"),
        "duty.bribery",
        ("state_enterprise",),
        ("bureau", "county", "enterprise", "township"),
        ("受贿", "权钱交易"),
        (
            "{date}，{company}的老板给{name}送了现金{amount}万元和几张购物卡。",
            "{name}在县城有多套房产，与其收入明显不符。",
            "凡是找{name}办事的，都要先“表示表示”，行情是{money}元起步。",
            "{company}拖欠农民工工资，却因为和{name}的关系一直拿到政府项目。",
        ),
    ),
    _Problem(
        ("环境污染监管不力", "对企业偷排污水放任不管"),
        "duty.dereliction",
        ("ecology",),
        ("bureau:生态环境分局", "township"),
        ("环境污染", "偷排", "监管不力"),
        (
            "{company}长期在夜间偷排污水，{village}村边的小河已经发黑发臭。",
            "群众向环保部门打了{count}次电话，每次都说“已经处理”，可是偷排从来没有停过。",
            "{name}每次检查前都提前给企业通风报信。",
        ),
        organisation_ok=True,
    ),
    _Problem(
        ("违规收费", "乱收费", "巧立名目收费"),
        "mass",
        ("education",),
        ("school", "bureau:教育局", "hospital"),
        ("乱收费", "违规收费"),
        (
            "学校以补课费、资料费的名义，每学期向每名学生收取{money}元，不开任何收据。",
            "{date}开学时，学校强制学生购买指定的校服，每套{money}元，质量很差。",
            "收来的钱去了哪里，家长们谁也不知道。",
        ),
        organisation_ok=True,
    ),
    _Problem(
        ("形式主义官僚主义", "搞形式主义加重基层负担", "工作作风漂浮"),
        "work.formalism",
        (),
        ("township", "bureau"),
        ("形式主义", "基层负担"),
        (
            "{name}要求村干部每天在{count}个工作群里打卡、填表，基层干部疲于应付。",
            "同一份材料要求反复报送，{date}一个月就报了{count}次。",
            "{name}下乡调研只看提前安排好的点，拍完照就走。",
        ),
        organisation_ok=True,
    ),
    _Problem(
        ("不作为慢作为", "推诿扯皮", "对群众诉求不闻不问"),
        "work",
        (),
        ("township", "bureau", "community"),
        ("不作为", "推诿扯皮"),
        (
            "{village}村的{thing}问题已经反映了{count}个月，{name}一直推诿扯皮。",
            "群众去找了{count}次，每次都说“研究研究”，到现在没有任何结果。",
            "{date}{name}当面答应解决，过后再也找不到人。",
        ),
        organisation_ok=True,
    ),
    _Problem(
        ("参与赌博", "生活作风问题", "违反生活纪律"),
        "conduct",
        (),
        ("village", "township", "bureau"),
        ("赌博", "生活作风"),
        (
            "{name}经常在{town}的茶楼参与赌博，输赢数额较大，有时一晚输赢{money}多元。",
            "{name}长期与他人保持不正当关系，在群众中影响很坏。",
            "上班时间{name}常常不在岗，打电话找不到人。",
        ),
    ),
    _Problem(
        ("疫情防控期间失职失责", "违规发放防疫补助"),
        "work",
        ("epidemic",),
        ("township", "bureau:卫生健康局", "community"),
        ("疫情防控", "防疫补助"),
        (
            "2022年疫情防控期间，{name}虚报值守人员名单，多领防疫补助{amount}万元。",
            "防疫物资采购价格明显高于市场价，供货的是{name}的{relative}。",
            "卡点值守人员的补助至今没有发放到位。",
        ),
    ),
    _Problem(
        ("征地拆迁补偿款被截留", "开发区征地违规操作"),
        "duty.abuse",
        ("dev_zone", "land"),
        ("township", "village", "bureau:自然资源局"),
        ("征地拆迁", "补偿款", "开发区"),
        (
            "{date}开发区征地时，{village}村{count}户村民的补偿款没有足额发放，被截留{amount}万元。",
            "{name}给自己的亲戚多算了拆迁面积，有的房子是征地公告发布后连夜突击盖的。",
            "补偿标准从来没有向村民公示过，问就说“上面定的”。",
        ),
    ),
    _Problem(
        ("以陈粮顶新粮", "粮食购销领域违规", "虚增粮食收购量"),
        "duty.bribery",
        ("food_security", "state_enterprise"),
        ("granary",),
        ("粮食购销", "以陈顶新", "虚增收购"),
        (
            "{date}收购季，{name}虚增收购量{count}万斤，套取收购资金和补贴。",
            "库里的粮食以陈顶新，账实不符，检查时临时调粮应付。",
            "农民交粮时被压级压价，关系户的粮食却能按一等粮收购。",
        ),
    ),
    _Problem(
        ("违规审批光伏项目用地", "能源项目审批违规"),
        "duty.abuse",
        ("energy",),
        ("bureau:发展和改革局|自然资源局", "county"),
        ("光伏项目", "违规审批"),
        (
            "{company}的光伏项目没有取得用地手续就开工建设，占用林地约{mu}亩。",
            "{name}在审批中明知材料不全仍然签字同意，事后该公司给其{relative}安排了工作。",
            "项目享受的补贴资金达{amount}万元，其中有多少是骗取的无人过问。",
        ),
    ),
    _Problem(
        ("侵占村集体资产", "私自出租集体土地", "集体收入不入账"),
        "mass.collective_assets",
        ("rural",),
        ("village",),
        ("集体资产", "集体土地", "村务公开"),
        (
            "{name}私自把村集体的{mu}亩土地出租给外地老板，租金一直没有进村集体账。",
            "村里的鱼塘、林地承包了{count}年，承包费去向不明。",
            "{date}以来，村务公开栏就没有更新过，村民要求查账被拒绝。",
        ),
    ),
    _Problem(
        ("套取医保基金", "违规收费骗保", "挂床住院骗保"),
        "duty.bribery",
        ("health",),
        ("hospital",),
        ("医保基金", "骗保", "挂床住院"),
        (
            "医院通过挂床住院、虚构诊疗项目等方式套取医保基金，{date}以来金额达{amount}万元。",
            "有的病人根本没有住院，名字却出现在住院名单上。",
            "{name}要求各科室完成“创收指标”，医生只能多开检查。",
        ),
        organisation_ok=True,
    ),
)

_VALUES: dict[str, tuple[str, ...]] = {
    "project": tuple(
        _words("村道硬化 饮水安全 产业大棚 光伏扶贫 养殖合作社 桥梁维修 农田水利 人居环境整治 高标准农田 污水管网")
    ),
    "relative": (_words("妻子 儿子 女儿 弟弟 侄子 妻弟 外甥 女婿 表弟 连襟")),
    "restaurant": (_words("县城的农家乐 镇上的饭店 酒店包间 度假山庄 私人会所 老街的饭馆")),
    "permit": (_words("营业执照 食品经营许可证 建房审批 不动产登记 危房改造申请 低保申请 残疾证")),
    "company": tuple(
        _words(
            "宏达建筑工程有限公司 鑫盛商贸有限公司 顺发建材公司 华联物资有限公司 永兴环保科技公司 "
            "金源劳务公司 恒通路桥公司 绿源农业开发公司"
        )
    ),
    "thing": (_words("绿化 保洁 物业 车辆维修 办公用品采购 食堂承包 道路维修 污水处理")),
}
_OPENINGS = (
    "",
    "",
    "尊敬的纪委监委领导：您好！",
    "我是{town}{village}村的村民，现向组织反映一个问题。",
    "我们是{village}村的部分党员和群众，现联名反映以下问题。",
    "本人在{county}工作，对以下情况比较了解。",
)
_INTROS = (
    "现反映{label}{post}{name}的问题。",
    "{name}现任{label}{post}。",
    "{label}{post}{name}在任期间问题很多。",
    "我要举报{label}{post}{name}。",
)
_ORG_INTROS = ("{label}存在以下问题：", "近年来，{label}问题突出。", "现反映{label}的问题。")
_IMPACTS = (
    "群众对此意见很大。",
    "此事在当地造成了很坏的影响。",
    "村民们敢怒不敢言。",
    "这种行为严重损害了党和政府在群众心中的形象。",
    "",
)
_DEMANDS = (
    "恳请纪委监委调查核实，依规依纪严肃处理。",
    "请求上级纪委派人调查，还群众一个公道。",
    "希望有关部门尽快查处，给老百姓一个交代。",
    "以上情况属实，本人愿意配合组织调查，相关证据材料可以提供。",
    "请领导重视，尽快核查处理。",
)
_TITLES = (
    "举报{label}{post_short}{name}{short}",
    "关于{label}{post_short}{name}{short}的问题反映",
    "反映{label}{post_short}{name}{short}问题",
    "{name}{short}，请求查处",
    "实名举报{label}{post_short}{name}{short}",
)
_ORG_TITLES = ("举报{label}{short}", "反映{label}{short}问题", "关于{label}{short}的问题反映")
_FOLLOW_UP_TITLES = {2: ("再问：", "再次反映：", "第二次举报："), 3: ("三问：", "第三次反映：", "三问")}
_FOLLOW_UP_SENTENCES = {
    2: (
        "此事我已于{date}向{county}纪委监委反映过，至今没有任何答复，现再次反映。",
        "上次反映后只有人来问了一下，问题到现在都没有解决。",
    ),
    3: (
        "这是我第三次反映这个问题了，前两次都石沉大海。",
        "此问题{date}以来已经反映过两次，至今不见处理结果，请上级纪委督办。",
    ),
}

# Items other than accusations.
_APPEAL = (
    "关于对本人处分决定的申诉",
    "本人{name}，原任{label}{post}，于{date}被给予{sanction}。",
    (
        "本人认为处分决定认定事实不清，部分问题并非本人所为。",
        "当时的情况是按照上级要求办理的，本人没有谋取任何私利。",
        "处分明显过重，与同类情况相比处理不公。",
    ),
    "特提出申诉，请求组织复查，恢复本人名誉。",
)
_SUGGESTIONS = (
    ("关于加强{thing}资金监管的建议", "近年来{county}在{thing}方面投入很大，但资金使用不够公开透明。"),
    ("建议整治群众身边的不正之风", "{town}一些村干部作风简单粗暴，群众办事难。"),
    ("对{label}改进作风的意见建议", "{label}办事效率低，群众跑腿多。"),
)
_SUGGESTION_TAILS = (
    "建议纪委监委加强监督检查，定期公开资金使用情况。",
    "建议建立办事公开制度，畅通群众反映问题的渠道。",
    "希望组织重视基层作风建设，切实为群众办实事。",
)
# (title, body, category, who the complaint is about: an organisation's unit or a private person)
_OUTSIDE_REMIT = (
    (
        "{company}拖欠工资问题",
        "本人在{company}打工，老板拖欠我们{count}名工人工资共计{amount}万元，至今未付。",
        "law",
        "{company}",
    ),
    ("{village}村土地承包纠纷", "我家的承包地被邻居强行耕种，多次协商无果，请求处理。", "other", ""),
    (
        "小区物业乱收费",
        "{town}某小区物业公司擅自提高物业费，停车费每月{money}元，业主意见很大。",
        "other",
        "{town}某物业公司",
    ),
    ("邻居违章建房影响采光", "邻居在{date}加盖了两层，挡住了我家的采光和通风，城管部门一直没有处理。", "other", ""),
    ("交通事故赔偿纠纷", "{date}我在{town}发生交通事故，对方至今拒绝赔偿，法院判决也没有执行。", "law", ""),
)
_NO_SUBSTANCE = (
    ("反映问题", "我有情况要反映，{county}有些干部问题很多，请领导重视。"),
    ("请领导看看", "这里的干部都不办事，希望领导来看看。"),
    ("举报信", "有人贪污，大家都知道，请调查。"),
)
_SANCTIONS = ("党内警告处分", "政务警告处分", "党内严重警告处分", "政务记过处分", "诫勉谈话处理")


@dataclass(frozen=True)
class Skeleton:
    """A text with open slots; `render` fills them. Tags and category are codes (hints)."""

    item_type: str
    title: Pieces
    description: Pieces
    keywords: str
    party: PartyHint
    category: str
    tags: tuple[str, ...] = ()
    follow_up: int = 0  # 0 first report, 2 "再问", 3 "三问"
    base_title: Pieces = field(default=(), compare=False)

    def render(self, fills: Mapping[str, str], *, gender: str = "") -> GeneratedText:
        party = self.party
        person = party.kind == PartyKind.PERSON
        unit = render(party.unit, fills)
        return GeneratedText(
            title=render(self.title, fills)[:200],
            description=render(self.description, fills),
            keywords=self.keywords,
            party=ReportedPartyText(
                kind=party.kind,
                name=fills["name"] if person else unit,
                post=render(party.post, fills),
                rank=party.rank,
                unit=unit if person else "",  # an organisation is named by its own name
                unit_nature=party.unit_nature,
                gender=gender if person else "",
            ),
            category=self.category,
            tags=self.tags,
            item_type=self.item_type,
            follow_up=self.follow_up,
        )


@dataclass(frozen=True)
class ReportedPartyText:
    kind: str  # PartyKind
    name: str
    post: str
    rank: str  # Rank code, "" for an organisation
    unit: str
    unit_nature: str
    gender: str


@dataclass(frozen=True)
class GeneratedText:
    title: str
    description: str
    keywords: str
    party: ReportedPartyText
    category: str  # code of a problem category (cases/data/categories.csv)
    tags: tuple[str, ...]  # codes of key areas / topics (cases/data/tags.csv)
    item_type: str
    follow_up: int


def _date_text(rng: random.Random, year: int) -> str:
    y = year - rng.choices((0, 1, 2), (5, 4, 1))[0]
    month = rng.randint(1, 12)
    if rng.random() < 0.4:
        return f"{y}年{month}月{rng.randint(1, 28)}日"
    return f"{y}年{month}月"


def _values(rng: random.Random, year: int) -> dict[str, object]:
    money = rng.choice((200, 300, 500, 800, 1000, 1500, 2000, 3000, 5000))
    plate_tail = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(5))
    values: dict[str, object] = {k: rng.choice(v) for k, v in _VALUES.items()}
    values.update(
        date=_date_text(rng, year),
        amount=rng.choice(("1.2", "2.5", "3.6", "5", "8.8", "12", "15.6", "20", "26", "38.5", "50", "80", "120")),
        money=str(money),
        money2=str(money * rng.choice((2, 3, 5))),
        count=str(rng.choice((2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30))),
        mu=str(rng.choice((3, 5, 8, 12, 20, 30, 50, 80, 120))),
        plate=f"{rng.choice(_PROVINCE_ABBR)}{rng.choice('ABCDEFGHJK')}·{plate_tail}",
        sanction=rng.choice(_SANCTIONS),
    )
    return values


def _party_values(party: PartyHint) -> dict[str, object]:
    return {"post": party.post, "post_short": party.post_short, "label": party.label, "unit": party.unit}


def _accusation(rng: random.Random, year: int) -> Skeleton:
    problem = rng.choice(_PROBLEMS)
    party = _choose_party(rng, rng.choice(problem.parties), organisation_ok=problem.organisation_ok)
    values = _values(rng, year) | _party_values(party) | {"short": rng.choice(problem.shorts)}
    person = party.kind == PartyKind.PERSON
    title = expand(rng.choice(_TITLES if person else _ORG_TITLES), values)
    facts = rng.sample(problem.facts, k=min(len(problem.facts), rng.choice((2, 2, 3))))
    desc: list[Piece] = []
    desc += expand(rng.choice(_OPENINGS), values)
    desc += expand(rng.choice(_INTROS if person else _ORG_INTROS), values)
    for sentence in facts:
        if not person:
            sentence = sentence.replace("{name}", "该单位负责人")
        desc += expand(sentence, values)
    desc += expand(rng.choice(_IMPACTS), values)
    desc += expand(rng.choice(_DEMANDS), values)
    post_kw = "".join(p for p in party.post_short if isinstance(p, str)) if person else ""
    if any(isinstance(p, Slot) for p in party.post_short):
        post_kw = ""
    keywords = ",".join(k for k in (*rng.sample(problem.keywords, k=min(2, len(problem.keywords))), post_kw) if k)
    return Skeleton(
        ItemType.ACCUSATION.value, tuple(title), tuple(desc), keywords[:200], party, problem.category, problem.tags
    )


def _other_item(rng: random.Random, item_type: str, year: int) -> Skeleton:
    values = _values(rng, year)
    if item_type == ItemType.APPEAL:
        party = _choose_party(rng, rng.choice(("township", "bureau", "village")))
        values |= _party_values(party)
        title_t, first, reasons, last = _APPEAL
        desc = expand(first, values)
        for sentence in rng.sample(reasons, k=2):
            desc += expand(sentence, values)
        desc += expand(last, values)
        return Skeleton(item_type, tuple(expand(title_t, values)), tuple(desc), "申诉,处分", party, "other")
    if item_type == ItemType.SUGGESTION:
        party = _choose_party(rng, rng.choice(("township", "bureau")), organisation_ok=True)
        party = replace(party, kind=PartyKind.ORGANISATION.value, post=(), post_short=(), rank="")
        values |= _party_values(party)
        title_t, body_t = rng.choice(_SUGGESTIONS)
        desc = expand(body_t, values) + expand(rng.choice(_SUGGESTION_TAILS), values)
        return Skeleton(item_type, tuple(expand(title_t, values)), tuple(desc), "意见建议,作风建设", party, "work")
    if item_type == ItemType.OUTSIDE_REMIT:
        title_t, body_t, category, unit_t = rng.choice(_OUTSIDE_REMIT)
        if unit_t:
            unit = tuple(expand(unit_t, values))
            party = PartyHint(PartyKind.ORGANISATION.value, (), (), "", unit, unit, "民营企业")
        else:
            party = PartyHint(PartyKind.PERSON.value, (), (), Rank.OTHER.value, (), (), "")
        desc = expand(body_t, values) + expand("请有关部门帮忙解决。", values)
        return Skeleton(item_type, tuple(expand(title_t, values)), tuple(desc), "纠纷", party, category)
    unit = tuple(expand("{county}有关部门"))
    party = PartyHint(PartyKind.ORGANISATION.value, (), (), "", unit, unit, "党政机关")
    title_t, body_t = rng.choice(_NO_SUBSTANCE)
    return Skeleton(item_type, tuple(expand(title_t, values)), tuple(expand(body_t, values)), "", party, "other")


def compose(
    rng: random.Random, *, item_type: str | None = None, follow_up: int | None = None, year: int = 2024
) -> Skeleton:
    """A skeleton of a complaint text. `follow_up` None lets about one in ten accusations be a follow-up."""
    if item_type is None:
        item_type = rng.choices([t.value for t in ItemType], (55, 8, 9, 22, 6))[
            0
        ]  # accusation, appeal, suggestion, outside remit, no substance
    skeleton = _accusation(rng, year) if item_type == ItemType.ACCUSATION else _other_item(rng, item_type, year)
    if follow_up is None:
        follow_up = rng.choices((0, 2, 3), (90, 8, 2))[0] if item_type == ItemType.ACCUSATION else 0
    return with_follow_up(skeleton, follow_up, rng, year=year) if follow_up else skeleton


def with_follow_up(skeleton: Skeleton, level: int, rng: random.Random, *, year: int = 2024) -> Skeleton:
    """The same report made again: "再问" (level 2) or "三问" (level 3)."""
    base = skeleton.base_title or skeleton.title
    title = (rng.choice(_FOLLOW_UP_TITLES[level]), *base)
    extra = expand(rng.choice(_FOLLOW_UP_SENTENCES[level]), {"date": _date_text(rng, year)})
    keywords = (skeleton.keywords + ",重复反映").lstrip(",")[:200]
    return replace(
        skeleton,
        title=title,
        description=(*skeleton.description, *extra),
        keywords=keywords,
        follow_up=level,
        base_title=base,
    )


def generate_text(
    rng: random.Random,
    region_name: str,
    *,
    item_type: str | None = None,
    follow_up: int | None = None,
    year: int = 2024,
    town: str | None = None,
    city: str = "",
) -> GeneratedText:
    """One complete text about a place in `region_name` (a county, district or city name)."""
    skeleton = compose(rng, item_type=item_type, follow_up=follow_up, year=year)
    name, gender = person_name(rng)
    fills = make_fills(
        name=name,
        county=region_name or county_name(rng),
        town=town or town_name(rng),
        village=village_name(rng),
        city=city,
    )
    return skeleton.render(fills, gender=gender)


# --- the shared message board ---------------------------------------------------------------

SHARED_FILE = "zh_messages_with_replies.csv"
_WS = re.compile(r"[ \t\u3000\xa0\r\f\v]+")
# The anonymised places of the message board: "A市", "B9市" (a city), "A7县", "A2区" (a county).
_PLACEHOLDER = re.compile(r"[A-Z](?:\d+[市区县]|市)")


def shared_complaints_dir() -> Path:
    """Where the shared complaint texts live: $QINGFENG_SHARED_DATA, else ../shared/data/complaints."""
    env = os.environ.get("QINGFENG_SHARED_DATA")
    if env:
        base = Path(env)
        return base / "complaints" if (base / "complaints").is_dir() else base
    from django.conf import settings

    return Path(settings.BASE_DIR).parent / "shared" / "data" / "complaints"


def normalise_whitespace(text: str) -> str:
    """Collapse runs of spaces and tabs, strip each line, drop empty lines."""
    text = (text or "").replace("_x000D_", "\n").replace("\r\n", "\n")  # "_x000D_": a CR escaped by Excel
    lines = (_WS.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def iter_shared_messages(path: Path | str | None = None) -> Iterator[tuple[str, str]]:
    """(title, body) of each message on the shared message board; nothing when the file is absent."""
    file = Path(path) if path else shared_complaints_dir() / SHARED_FILE
    if file.is_dir():
        file = file / SHARED_FILE
    if not file.is_file():
        return
    with file.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            title = normalise_whitespace(row.get("留言主题") or "").replace("\n", " ")
            body = normalise_whitespace(row.get("留言详情") or "")
            if title and body:
                yield title[:200], body


_SHARED_HINTS: tuple[tuple[tuple[str, ...], str, str, tuple[str, ...]], ...] = (
    # (words, item type, category, tags), first match wins
    (("贪污", "受贿", "挪用", "侵占", "截留"), ItemType.ACCUSATION, "duty.bribery", ()),
    (("举报", "违规", "违法", "腐败"), ItemType.ACCUSATION, "work", ()),
    (("扶贫", "低保", "补贴", "补助"), ItemType.ACCUSATION, "mass.poverty_funds", ("social_security",)),
    (("不作为", "推诿", "拖延", "不处理", "没人管"), ItemType.ACCUSATION, "work", ()),
    (("耕地", "占地", "征地", "拆迁"), ItemType.ACCUSATION, "duty.abuse", ("land",)),
    (("污染", "排污", "噪音", "油烟", "扬尘"), ItemType.OUTSIDE_REMIT, "other", ("ecology",)),
    (("学校", "教育", "学生", "老师"), ItemType.OUTSIDE_REMIT, "other", ("education",)),
    (("医院", "医保", "医疗"), ItemType.OUTSIDE_REMIT, "other", ("health",)),
    (("物业", "小区", "房屋", "房产", "开发商"), ItemType.OUTSIDE_REMIT, "other", ("housing",)),
    (("建议", "希望", "能否"), ItemType.SUGGESTION, "work", ()),
)


def shared_skeleton(title: str, body: str, rng: random.Random) -> Skeleton:
    """A skeleton around a shared message: its anonymised places ("A市", "A7县") become slots."""
    text = title + body
    tags: tuple[str, ...] = ()
    item_type, category = ItemType.OUTSIDE_REMIT.value, "other"
    for words, kind, cat, tg in _SHARED_HINTS:
        if any(w in text for w in words):
            item_type, category, tags = str(kind), cat, tg
            break
    party = _choose_party(rng, rng.choice(("township", "bureau", "village", "community")), organisation_ok=True)
    return Skeleton(item_type, _split_places(title), _split_places(body), "", party, category, tuple(tags))


def _split_places(text: str) -> Pieces:
    out: list[Piece] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(text):
        if m.start() > pos:
            out.append(text[pos : m.start()])
        token = m.group()
        out.append(_SLOT_OBJECTS["city" if token[1] == "市" else "county"])
        pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return tuple(out)
