"""The demo's story as data: a fictional energy group's party-group round (no real places,
companies or people).

示例能源集团有限公司's party group (党组) inspects 36 of its units in round 2025-R1, in two
batches, with eight groups: refining and chemical companies (常规巡视), research institutes
(科技专项, `special`), two finance units (机动巡视, `mobile`), the units of its Middle East
region (境外巡视, `overseas`) and two 回头看 of units it inspected in 2023 (`lookback`,
following their cases of round 2023-R2). Problems are drawn by unit type from `BANK`; a
handful recur across many units (the four systemic ones the office writes 专题报告 on).

Everything the runner does not draw at random is here. The last section, *Domains,
extensions, outcomes and themes*, holds the problems' business-domain tags, the extension
requests, what measures achieve, the four themes and the 回头看 recurrences (see runner.py,
the section of the same name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

GROUP = "示例能源集团有限公司"
OFFICE_ACTOR = "集团党组巡视办"

ROUND = "2025-R1"
ROUND_TITLE = "集团党组2025年第一轮巡视"
ROUND_START = date(2025, 3, 3)
DEMO_END = date(2026, 3, 31)

EARLIER_ROUND = "2023-R2"
EARLIER_TITLE = "集团党组2023年第二轮巡视"
EARLIER_START = date(2023, 9, 4)


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch of the round's plan: its code and planned move-in and leave dates."""

    code: str
    move_in: date
    leave: date


BATCHES = (
    Batch("第一批", date(2025, 3, 24), date(2025, 5, 23)),
    Batch("第二批", date(2025, 6, 16), date(2025, 8, 8)),
)

# The eight groups and their leaders (组长), named as reports anonymise people.
GROUPS = {
    "G1": "第一巡视组组长 赵某",
    "G2": "第二巡视组组长 钱某",
    "G3": "第三巡视组组长 孙某",
    "G4": "第四巡视组组长 李某",
    "G5": "第五巡视组组长 周某",
    "G6": "第六巡视组组长 吴某",
    "G7": "第七巡视组组长 郑某",
    "G8": "第八巡视组组长 王某",
}


@dataclass(frozen=True, slots=True)
class DeskUser:
    """A person of the demo who signs in to the web desk, their role and scope."""

    name: str
    role: str
    password: str  # printed by `xunshi demo`: for the demo only
    group: str | None = None  # ROUND/G for a group leader
    unit: str | None = None  # the unit of a liaison or party secretary


# One desk user per role. The group leader leads G6, the liaison and the party secretary act
# for U30 (inspected by G6, with tasks still open at the demo's end), so that the three see
# the same case from their sides.
DESK_USERS = (
    DeskUser("林静", "office", "demo-office-2025"),
    DeskUser("陈立", "leading_group", "demo-leading-2025"),
    DeskUser("吴组长", "group_leader", "demo-leader-2025", group=f"{ROUND}/G6"),
    DeskUser("新材料联络员", "unit_liaison", "demo-liaison-2025", unit="U30"),
    DeskUser("新材料书记", "party_secretary", "demo-secretary-2025", unit="U30"),
    DeskUser("吴涛", "discipline_group", "demo-discipline-2025"),
    DeskUser("郑岚", "organization_dept", "demo-organization-2025"),
    DeskUser("周敏", "functional_dept", "demo-department-2025"),
)

# Unit types: what the bank draws from, and the definition each type is inspected with.
REFINING = "炼化企业"
REGIONAL = "区域公司"
RESEARCH = "科研院所"
FINANCE = "金融单位"
OVERSEAS = "境外单位"

DEFINITIONS = {
    REFINING: "regular",
    REGIONAL: "regular",
    RESEARCH: "special",
    FINANCE: "mobile",
    OVERSEAS: "overseas",
}


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit of the group, the batch and group that inspect it, and how."""

    code: str
    name: str
    kind: str  # one of the unit types above
    batch: int  # 0 or 1: BATCHES[batch]
    group: str
    lookback: bool = False  # a 回头看 of its case in EARLIER_ROUND

    @property
    def definition(self) -> str:
        """The lifecycle its case runs on."""
        return "lookback" if self.lookback else DEFINITIONS[self.kind]


UNITS = (
    # 第一批: G1–G8
    Unit("U01", "星河炼化公司", REFINING, 0, "G1"),
    Unit("U02", "启明石化公司", REFINING, 0, "G1"),
    Unit("U03", "长风化工公司", REFINING, 0, "G2"),
    Unit("U04", "云岚炼油厂", REFINING, 0, "G2"),
    Unit("U05", "锦程石化公司", REFINING, 0, "G3"),
    Unit("U06", "翔宇化工公司", REFINING, 0, "G3"),
    Unit("U07", "中东地区公司", OVERSEAS, 0, "G4"),
    Unit("U08", "海湾炼化项目公司", OVERSEAS, 0, "G4"),
    Unit("U09", "中东工程建设公司", OVERSEAS, 0, "G4"),
    Unit("U10", "天衡润滑油公司", REFINING, 0, "G5"),
    Unit("U11", "凌峰石化公司", REFINING, 0, "G5"),
    Unit("U12", "东岭研究院", RESEARCH, 0, "G6"),
    Unit("U13", "晨曦化工研究院", RESEARCH, 0, "G6"),
    Unit("U14", "财务共享服务中心", FINANCE, 0, "G7"),
    Unit("U15", "资金结算中心", FINANCE, 0, "G7"),
    Unit("U16", "朗润化工公司", REFINING, 0, "G8"),
    Unit("U17", "西湾区域公司", REGIONAL, 0, "G8"),
    Unit("U18", "鸿远炼化公司", REFINING, 0, "G8"),
    # 第二批: G1–G8 again
    Unit("U19", "景和石化公司", REFINING, 1, "G1"),
    Unit("U20", "和煦化工公司", REFINING, 1, "G1"),
    Unit("U21", "瑞丰炼化公司", REFINING, 1, "G2", lookback=True),
    Unit("U22", "远航化工公司", REFINING, 1, "G2"),
    Unit("U23", "中东销售公司", OVERSEAS, 1, "G3"),
    Unit("U24", "海湾油气合作项目部", OVERSEAS, 1, "G3"),
    Unit("U25", "北澜区域公司", REGIONAL, 1, "G4"),
    Unit("U26", "南屿区域公司", REGIONAL, 1, "G4"),
    Unit("U27", "恒泰化工公司", REFINING, 1, "G5", lookback=True),
    Unit("U28", "曙岚炼化公司", REFINING, 1, "G5"),
    Unit("U29", "工程技术研究院", RESEARCH, 1, "G6"),
    Unit("U30", "新材料研究院", RESEARCH, 1, "G6"),
    Unit("U31", "安全环保研究院", RESEARCH, 1, "G6"),
    Unit("U32", "星澜石化公司", REFINING, 1, "G7"),
    Unit("U33", "启航化工公司", REFINING, 1, "G7"),
    Unit("U34", "长青炼化公司", REFINING, 1, "G8"),
    Unit("U35", "碧霄化工公司", REFINING, 1, "G8"),
    Unit("U36", "云帆区域公司", REGIONAL, 1, "G8"),
)

# How many problems each unit type's case lists (inclusive range).
PROBLEMS_PER_UNIT = {
    REFINING: (14, 25),
    REGIONAL: (12, 20),
    RESEARCH: (10, 16),
    FINANCE: (10, 14),
    OVERSEAS: (10, 16),
}
LOOKBACK_PROBLEMS = (10, 14)


# -- the problem bank --------------------------------------------------------------------

ALL = frozenset({REFINING, REGIONAL, RESEARCH, FINANCE, OVERSEAS})
INDUSTRIAL = frozenset({REFINING, REGIONAL, OVERSEAS})


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem of the bank: what groups write, its category and business-domain tag, the
    unit types it is found in, and the measures a unit takes against it."""

    title: str
    category: str  # 一级/二级, from data/demo_categories.yaml
    tag: str  # business domain (Features to come: `item add --tag`)
    kinds: frozenset[str]
    measures: tuple[str, ...]
    key: bool = False  # 重点问题: a judgement, not computed
    weight: int = 1  # how much likelier than others it is drawn (the systemic ones recur)


BANK = (
    # The four systemic problems (weight 4): most refining units have them.
    Problem(
        "承包商准入把关不严，“以包代管”问题突出",
        "全面从严治党/重点领域廉洁风险防控不力",
        "承包商管理",
        INDUSTRIAL,
        ("修订承包商准入和考核管理办法", "开展承包商资质专项清查", "建立承包商黑名单动态管理机制"),
        key=True,
        weight=4,
    ),
    Problem(
        "合同签订不规范，合同资产长期挂账未清理",
        "全面从严治党/国有资产监管不严",
        "合同资产管理",
        INDUSTRIAL | {FINANCE},
        ("开展合同资产清查并逐笔销账", "修订合同管理实施细则", "上线合同全生命周期管理系统"),
        key=True,
        weight=4,
    ),
    Problem(
        "工程余料账实不符，回收处置不及时",
        "全面从严治党/国有资产监管不严",
        "工程余料管理",
        INDUSTRIAL,
        ("盘点工程余料并建立台账", "制定工程余料回收利用管理办法", "追缴流失余料并追责"),
        weight=4,
    ),
    Problem(
        "产销研衔接不畅，高端产品开发滞后于市场",
        "贯彻落实党中央决策部署/聚焦主责主业不够",
        "产销研一体化管理",
        frozenset({REFINING, REGIONAL, RESEARCH}),
        ("建立产销研联席会议机制", "制定新产品市场开发专项方案", "完善科研成果转化考核"),
        key=True,
        weight=4,
    ),
    # Recurring problems of every kind of unit.
    Problem(
        "贯彻落实集团党组决策部署有偏差，个别重点任务推进缓慢",
        "贯彻落实党中央决策部署/服务国家能源安全战略不到位",
        "党建工作",
        ALL,
        ("建立重点任务督办台账", "党委会专题研究推进措施"),
        key=True,
        weight=2,
    ),
    Problem(
        "“三重一大”事项未经集体决策或决策程序倒置",
        "党的领导/“三重一大”决策制度执行不严",
        "党建工作",
        ALL,
        ("修订“三重一大”决策制度实施办法", "开展决策事项专项复查"),
        key=True,
        weight=2,
    ),
    Problem(
        "党组织前置研究讨论重大经营管理事项清单不完善",
        "党的领导/党组织前置研究讨论重大经营管理事项不规范",
        "党建工作",
        ALL,
        ("修订前置研究讨论事项清单", "对照清单复查近三年议题"),
    ),
    Problem(
        "管党治党“两个责任”传导层层递减",
        "全面从严治党/管党治党主体责任落实不到位",
        "党建工作",
        ALL,
        ("制定全面从严治党责任清单", "开展基层党组织书记述责述廉"),
        weight=2,
    ),
    Problem(
        "公务用车、业务招待管理不规范",
        "全面从严治党/违反中央八项规定精神",
        "财务管理",
        ALL,
        ("开展业务招待费专项清理", "修订公务用车管理办法"),
        weight=2,
    ),
    Problem(
        "文山会海问题反弹，基层报表负担重",
        "全面从严治党/形式主义官僚主义",
        "党建工作",
        ALL,
        ("精简会议文件和报表", "建立基层减负监测机制"),
    ),
    Problem(
        "物资采购化整为零规避招标",
        "全面从严治党/重点领域廉洁风险防控不力",
        "物资采购",
        INDUSTRIAL | {RESEARCH},
        ("开展采购项目专项审计", "修订物资采购管理规定", "推行集中采购"),
        key=True,
        weight=2,
    ),
    Problem(
        "干部选拔任用程序不规范，动议酝酿不充分",
        "新时代党的组织路线/选人用人不规范",
        "选人用人",
        ALL,
        ("开展选人用人专项检查", "修订中层干部选拔任用工作办法"),
        weight=2,
    ),
    Problem(
        "领导班子议事规则执行不严，民主集中制落实不到位",
        "新时代党的组织路线/领导班子建设不够有力",
        "党建工作",
        ALL,
        ("修订领导班子议事规则", "召开专题民主生活会剖析整改"),
    ),
    Problem(
        "基层党支部组织生活不经常、不认真",
        "新时代党的组织路线/基层党组织建设薄弱",
        "党建工作",
        ALL,
        ("开展支部标准化规范化建设", "建立支部工作质量考评制度"),
        weight=2,
    ),
    Problem(
        "青年人才和技能人才梯队建设滞后",
        "新时代党的组织路线/人才队伍建设滞后",
        "选人用人",
        ALL,
        ("制定人才梯队建设三年规划", "完善技能人才评价办法"),
    ),
    Problem(
        "上轮巡视反馈问题整改不彻底，部分问题反弹",
        "巡视整改/上轮巡视整改不到位",
        "党建工作",
        ALL,
        ("逐项复查上轮巡视整改事项", "建立整改成效回访机制"),
        key=True,
    ),
    Problem(
        "审计发现问题整改不到位，屡审屡犯",
        "巡视整改/审计等监督发现问题整改不到位",
        "财务管理",
        ALL,
        ("建立审计整改销号台账", "对屡审屡犯问题追责问责"),
    ),
    # Refining and chemical companies, regional companies.
    Problem(
        "安全生产责任制落实不到位，重大隐患整改滞后",
        "全面从严治党/安全生产责任落实不到位",
        "安全生产",
        INDUSTRIAL,
        ("开展重大隐患专项排查治理", "修订安全生产责任制", "对隐患整改滞后问题追责"),
        key=True,
        weight=3,
    ),
    Problem(
        "直接作业环节承包商安全监管缺位",
        "全面从严治党/安全生产责任落实不到位",
        "承包商管理",
        INDUSTRIAL,
        ("落实承包商作业许可管理", "开展承包商安全培训考核"),
        weight=2,
    ),
    Problem(
        "工程项目变更签证管理不严，结算审核把关不严",
        "全面从严治党/重点领域廉洁风险防控不力",
        "投资管理",
        INDUSTRIAL,
        ("开展工程结算专项复审", "修订工程变更签证管理办法"),
        weight=2,
    ),
    Problem(
        "投资项目论证不充分，部分项目效益未达预期",
        "贯彻落实党中央决策部署/防范化解重大风险不力",
        "投资管理",
        INDUSTRIAL,
        ("开展投资项目后评价", "完善投资决策责任追究制度"),
    ),
    Problem(
        "装置优化和结构调整推进缓慢，油转化工进度滞后",
        "贯彻落实党中央决策部署/深化国企改革不到位",
        "产销研一体化管理",
        frozenset({REFINING}),
        ("制定装置结构调整实施方案", "建立产品结构优化月度调度机制"),
    ),
    Problem(
        "销售环节价格管理不规范，存在利益输送风险",
        "全面从严治党/重点领域廉洁风险防控不力",
        "产销研一体化管理",
        frozenset({REFINING, REGIONAL}),
        ("完善价格决策审批流程", "开展销售价格专项检查"),
    ),
    Problem(
        "应收账款和存货管控不严，资金占用偏高",
        "全面从严治党/国有资产监管不严",
        "财务管理",
        INDUSTRIAL | {FINANCE},
        ("开展应收账款清收专项行动", "建立存货压降考核机制"),
    ),
    # Research institutes.
    Problem(
        "科研项目立项论证不充分，关键核心技术攻关进展慢",
        "贯彻落实党中央决策部署/科技自立自强推进不力",
        "科研经费管理",
        frozenset({RESEARCH}),
        ("修订科研项目立项评审办法", "建立攻关项目里程碑考核"),
        key=True,
        weight=3,
    ),
    Problem(
        "科研经费使用不规范，存在套取挪用风险",
        "全面从严治党/重点领域廉洁风险防控不力",
        "科研经费管理",
        frozenset({RESEARCH}),
        ("开展科研经费专项审计", "修订科研经费管理办法", "追回违规使用经费"),
        key=True,
        weight=3,
    ),
    Problem(
        "科研成果转化率低，与生产企业协同不够",
        "贯彻落实党中央决策部署/科技自立自强推进不力",
        "产销研一体化管理",
        frozenset({RESEARCH}),
        ("建立院企联合攻关机制", "完善成果转化收益分配办法"),
        weight=2,
    ),
    Problem(
        "科研仪器设备重复购置、闲置浪费",
        "全面从严治党/国有资产监管不严",
        "合同资产管理",
        frozenset({RESEARCH}),
        ("开展仪器设备共享平台建设", "清查闲置设备并调剂使用"),
    ),
    # Finance units.
    Problem(
        "资金集中管理存在盲区，资金归集率偏低",
        "贯彻落实党中央决策部署/防范化解重大风险不力",
        "资金管理",
        frozenset({FINANCE}),
        ("修订资金集中管理办法", "开展账户清理"),
        key=True,
        weight=3,
    ),
    Problem(
        "财务共享业务审核流于形式，报销把关不严",
        "全面从严治党/管党治党主体责任落实不到位",
        "财务管理",
        frozenset({FINANCE}),
        ("完善共享审核规则库", "开展报销业务专项抽查"),
        weight=3,
    ),
    Problem(
        "金融衍生业务风险管控不严",
        "贯彻落实党中央决策部署/防范化解重大风险不力",
        "资金管理",
        frozenset({FINANCE}),
        ("修订金融衍生业务管理办法", "建立衍生业务风险限额"),
        weight=2,
    ),
    # Overseas units.
    Problem(
        "境外项目合规经营风险防控不到位",
        "贯彻落实党中央决策部署/防范化解重大风险不力",
        "境外合规经营",
        frozenset({OVERSEAS}),
        ("建立境外合规风险清单", "开展境外合规培训"),
        key=True,
        weight=3,
    ),
    Problem(
        "境外资产管理薄弱，账实不符",
        "全面从严治党/国有资产监管不严",
        "合同资产管理",
        frozenset({OVERSEAS}),
        ("开展境外资产清查", "修订境外资产管理办法"),
        weight=2,
    ),
    Problem(
        "境外员工队伍管理和党建工作覆盖不到位",
        "新时代党的组织路线/基层党组织建设薄弱",
        "党建工作",
        frozenset({OVERSEAS}),
        ("健全境外党建工作联络机制", "开展境外党员教育管理"),
    ),
)

# What the departments a measure is led by are called, by business domain.
DEPARTMENTS = {
    "承包商管理": "物资装备部",
    "合同资产管理": "财务资产部",
    "工程余料管理": "工程管理部",
    "产销研一体化管理": "生产经营部",
    "安全生产": "安全环保部",
    "财务管理": "财务资产部",
    "资金管理": "财务资产部",
    "选人用人": "组织人事部",
    "物资采购": "物资装备部",
    "投资管理": "规划发展部",
    "科研经费管理": "科技管理部",
    "境外合规经营": "法律合规部",
    "党建工作": "党委办公室",
}

# Units that fall behind: the stage they are slow in, and by how many working days. The
# rectification stages' lateness makes the unit's ladder climb (督办函, 约谈 proposals).
LATE = {
    "U04": ("onsite", 5),
    "U11": ("drafting", 12),
    "U16": ("rectification_report", 18),
    "U22": ("rectification_report", 90),
    "U26": ("rectification_plan", 12),
    "U30": ("office_review", 15),
    "U35": ("publication", 60),
}
# Units whose measures tend to run over their due dates.
SLOW_TASKS = frozenset({"U06", "U16", "U22", "U26", "U33"})
SENT_BACK = "U03"  # the leading group sends this group back on site once (补充巡视)
PLAN_REVISED = "U18"  # the reviewers send its rectification plan back once

# 整改评估: each unit's grade (the first evaluation; U09's 差 triggers 二次整改, after which
# it is graded 一般). Units not listed have not been evaluated by the end of the demo.
GRADES = {
    "U01": "好",
    "U02": "较好",
    "U03": "较好",
    "U05": "好",
    "U06": "一般",
    "U07": "较好",
    "U08": "较好",
    "U09": "差",
    "U10": "好",
    "U12": "较好",
    "U13": "一般",
    "U14": "好",
    "U15": "较好",
    "U17": "较好",
    "U18": "一般",
}
POOR = "U09"
SECOND_GRADE = "一般"  # U09 after its 二次整改
GRADE_BANDS = {"好": (90, 97), "较好": (80, 89), "一般": (62, 79), "差": (50, 58)}
DIMENSIONS = {"组织领导": 20, "整改落实": 40, "建章立制": 20, "成果运用": 20}

# -- clues ----------------------------------------------------------------------------------

# Summaries name roles, never people (the office's duty; see README, 问题线索).
CLUE_SUMMARIES = (
    "反映某分厂厂长在承包商选用中收受好处",
    "反映某项目经理虚增工程量套取资金",
    "反映某处处长违规兼职取酬",
    "反映某车间主任在物资验收中弄虚作假",
    "反映某部门负责人违规发放津补贴",
    "反映某研究室主任虚列科研经费支出",
    "反映某科长在招标中泄露标底",
    "反映某中层干部违规操办婚丧喜庆事宜",
    "反映某销售经理违规低价销售产品",
    "反映某境外项目负责人违规租用车辆",
)
# Receivers and how likely each is; the rest go to 纪检监察组.
OTHER_RECEIVER = "集团审计部"
CLUES_PER_UNIT = (0, 4)
WITHDRAWN_CLUE = ("U10", 1)  # registered by mistake (a duplicate), withdrawn before handover
# What a concluded clue's receiver reports, by its disposition.
CLUE_OUTCOMES = {
    "谈话函询": "经谈话函询，反映问题基本不属实，予以澄清",
    "初步核实": "经初步核实，反映问题部分属实，已予诫勉谈话",
    "予以了结": "反映问题已在此前核查中处理，予以了结",
    "立案审查": "经立案审查，给予党内严重警告处分",
}
# Clues whose receiver never reports a disposition within three months (escalated).
UNANSWERED_CLUES = frozenset({("U05", 1), ("U20", 1)})


# -- the earlier round (2023-R2): the two units the 回头看 follow -------------------------


@dataclass(frozen=True, slots=True)
class EarlierProblem:
    """A problem of the earlier round's case: its code and the bank problem it was."""

    code: str
    problem: str  # a BANK title


EARLIER_GROUP = ("G1", "第一巡视组组长 冯某")
EARLIER_PROBLEMS = {
    "U21": (
        EarlierProblem("P01", "承包商准入把关不严，“以包代管”问题突出"),
        EarlierProblem("P02", "工程余料账实不符，回收处置不及时"),
        EarlierProblem("P03", "“三重一大”事项未经集体决策或决策程序倒置"),
        EarlierProblem("P04", "安全生产责任制落实不到位，重大隐患整改滞后"),
    ),
    "U27": (
        EarlierProblem("P01", "合同签订不规范，合同资产长期挂账未清理"),
        EarlierProblem("P02", "物资采购化整为零规避招标"),
        EarlierProblem("P03", "干部选拔任用程序不规范，动议酝酿不充分"),
    ),
}


# -- Domains, extensions, outcomes and themes ------------------------------------------
#
# * Tags (`item add --tag`): each BANK problem's `tag`; the tag list is TAGS.
# * 回头看 recurrences (`item add --recurs-from`): a 回头看's problem that is one of its
#   earlier case's (same BANK title, EARLIER_PROBLEMS) recurs from that earlier item.
# * Extension requests (`task extend` / `task extension`): EXTENSIONS.
# * Outcomes (`task done --rule/--accountable/--funds`): OUTCOMES.
# * 专题报告 (`theme add`, `theme measure`, `report theme`): THEMES, added on THEMES_ON.
# * Statistics (`report statistics`): printed by `xunshi demo` after `report round`.

TAGS = tuple(dict.fromkeys(problem.tag for problem in BANK))


@dataclass(frozen=True, slots=True)
class Extension:
    """A unit asks to extend its `nth` task (in the order tasks were added) by `days`
    working days, a few days before it is due; the office approves or rejects it."""

    unit: str
    nth: int
    days: int
    approve: bool
    reason: str
    answer: str


EXTENSIONS = (
    Extension("U01", 3, 25, True, "涉及装置停工检修窗口，需待大检修期间实施", "同意延期"),
    Extension("U05", 5, 20, True, "合同资产清查涉及境外合作方对账，需延长时间", "同意延期"),
    Extension("U06", 2, 30, False, "人员紧张，申请延期", "理由不充分，不同意延期，按期完成"),
    Extension("U10", 4, 15, True, "制度修订需经职代会审议", "同意延期"),
    Extension("U12", 1, 20, True, "科研经费审计需第三方机构进场", "同意延期"),
    Extension("U16", 6, 30, False, "工作量大，申请延期", "不同意延期，纳入督办"),
    Extension("U19", 2, 20, True, "工程余料盘点需结合年底盘库", "同意延期"),
    Extension("U22", 3, 25, False, "申请延后完成", "不同意延期，请抓紧落实"),
    Extension("U28", 4, 15, True, "承包商清查涉及在建项目，需分批实施", "同意延期"),
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a measure of a business domain yields when done: the rule made or revised (建章
    立制), how likely people are held accountable (问责) and how many at most, and the funds
    recovered or losses avoided (万元) at most."""

    rule: str
    accountable: tuple[float, int]  # (probability, most people)
    funds: int  # 万元, 0: none


OUTCOMES = {
    "承包商管理": Outcome("《承包商管理办法》", (0.3, 3), 300),
    "合同资产管理": Outcome("《合同管理实施细则》", (0.2, 2), 800),
    "工程余料管理": Outcome("《工程余料回收利用管理办法》", (0.3, 2), 500),
    "产销研一体化管理": Outcome("《产销研协同工作规则》", (0.0, 0), 0),
    "安全生产": Outcome("《安全生产责任制》", (0.4, 4), 0),
    "财务管理": Outcome("《费用报销管理办法》", (0.3, 2), 120),
    "资金管理": Outcome("《资金集中管理办法》", (0.1, 1), 1500),
    "选人用人": Outcome("《中层干部选拔任用工作办法》", (0.2, 2), 0),
    "物资采购": Outcome("《物资采购管理规定》", (0.4, 3), 260),
    "投资管理": Outcome("《投资项目后评价管理办法》", (0.2, 2), 900),
    "科研经费管理": Outcome("《科研经费管理办法》", (0.3, 2), 180),
    "境外合规经营": Outcome("《境外合规管理指引》", (0.1, 1), 0),
    "党建工作": Outcome("《党委议事规则》", (0.1, 1), 0),
}


@dataclass(frozen=True, slots=True)
class Theme:
    """A 专题报告: a systemic problem across units, the department responsible for solving
    it for the whole group, and the mechanism measures (长效机制) it puts in place."""

    code: str
    title: str
    department: str
    tag: str
    measures: tuple[str, ...]


THEMES = (
    Theme(
        "T1",
        "承包商管理",
        "物资装备部",
        "承包商管理",
        ("建立集团统一的承包商准入和评价平台", "推行承包商黑名单集团内共享"),
    ),
    Theme(
        "T2",
        "合同资产管理",
        "财务资产部",
        "合同资产管理",
        ("开展集团合同资产全面清查", "合同管理系统与财务系统贯通"),
    ),
    Theme(
        "T3",
        "工程余料管理",
        "工程管理部",
        "工程余料管理",
        ("制定集团工程余料调剂办法", "建立工程余料线上调剂平台"),
    ),
    Theme(
        "T4",
        "产销研一体化管理",
        "生产经营部",
        "产销研一体化管理",
        ("建立集团产销研一体化协调机制", "完善新产品开发考核激励"),
    ),
)


def bank_problem(title: str) -> Problem:
    """The BANK problem called `title`."""
    for problem in BANK:
        if problem.title == title:
            return problem
    raise KeyError(title)


# The office writes its 专题报告 once the second batch's problems are listed; the
# departments then report on their mechanism measures (theme, measure number, status, day).
THEMES_ON = date(2025, 10, 20)
THEME_PROGRESS = (
    ("T1", 1, "已完成", date(2025, 12, 19)),
    ("T1", 2, "推进中", date(2025, 12, 19)),
    ("T2", 1, "推进中", date(2025, 11, 28)),
    ("T3", 1, "已完成", date(2026, 1, 16)),
    ("T3", 2, "推进中", date(2026, 1, 16)),
    ("T4", 1, "推进中", date(2026, 2, 13)),
)
# A measure whose text says it makes or revises a rule yields the domain's rule (建章立制).
RULE_WORDS = ("办法", "细则", "制度", "规则", "规定", "机制", "指引")
