package console

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"text/template"

	"github.com/kefu-dev/kefu/locales"
)

// builtin is the console's fallback copy of its UI strings, for a Console built without Options.T.
// The same keys live in locales/zh-CN.yaml and en.yaml (the catalog kefu serve passes as Options.T,
// which wins); TestBuiltinKeysInCatalog keeps the two in step.
var builtin = map[string]map[string]string{
	"zh-CN": {
		"console.title":              "客服数据看板",
		"console.signin":             "登录",
		"console.signout":            "退出",
		"console.name":               "用户名",
		"console.password":           "密码",
		"console.login_failed":       "用户名或密码错误。",
		"console.login_wait":         "尝试次数过多，请 {{.seconds}} 秒后再试。",
		"console.csrf_failed":        "表单已过期或无效，请刷新页面后重试。",
		"console.forbidden":          "您的角色无权访问此页面。",
		"console.error":              "服务器出错了，请稍后再试。",
		"console.filters":            "筛选",
		"console.from":               "开始日期",
		"console.to":                 "结束日期",
		"console.channel":            "渠道",
		"console.category":           "问题类型",
		"console.priority":           "优先级",
		"console.agent":              "客服",
		"console.granularity":        "趋势粒度",
		"console.any":                "全部",
		"console.day":                "按日",
		"console.week":               "按周",
		"console.month":              "按月",
		"console.apply":              "应用",
		"console.own_numbers":        "您看到的是自己处理的工单数据。",
		"console.tickets_created":    "新建工单",
		"console.tickets_resolved":   "已解决",
		"console.backlog":            "积压工单",
		"console.first_response":     "首次响应",
		"console.resolution":         "解决时长",
		"console.median":             "中位数",
		"console.p90":                "P90",
		"console.sla_response":       "响应达标率",
		"console.sla_resolution":     "解决达标率",
		"console.csat":               "满意度",
		"console.csat_count":         "评价数",
		"console.response_rate":      "评价率",
		"console.fcr":                "一次解决率",
		"console.bot_resolved":       "机器人独立解决",
		"console.bot_target":         "目标 ≥ 30%",
		"console.kb_citation":        "知识库引用率",
		"console.conversations":      "会话",
		"console.trend":              "响应与解决趋势",
		"console.period":             "周期",
		"console.backlog_status":     "积压（按状态）",
		"console.backlog_priority":   "积压（按优先级）",
		"console.backlog_age":        "积压（按时长）",
		"console.status":             "状态",
		"console.age":                "时长",
		"console.count":              "数量",
		"console.csat_dist":          "评分分布",
		"console.score":              "评分",
		"console.low_ratings":        "低分评价（≤3）及回访",
		"console.ticket":             "工单",
		"console.comment":            "评价内容",
		"console.rated_at":           "评价时间",
		"console.follow_up":          "回访状态",
		"console.follow.followed_up": "已回访",
		"console.follow.pending":     "待回访",
		"console.follow.overdue":     "超 24 小时未回访",
		"console.none":               "暂无数据",
		"console.top_problems":       "高频问题 TOP5",
		"console.share":              "占比",
		"console.box":                "各类问题解决时长分布（小时）",
		"console.min":                "最短",
		"console.q1":                 "下四分位",
		"console.q3":                 "上四分位",
		"console.max":                "最长",
		"console.response_vs_csat":   "响应速度与满意度",
		"console.spearman":           "Spearman 相关系数",
		"console.bucket":             "首次响应",
		"console.mean_csat":          "平均评分",
		"console.agents":             "客服表现",
		"console.channels":           "渠道表现",
		"console.tickets":            "工单",
		"console.exports":            "导出",
		"console.export_csv":         "工单 CSV",
		"console.export_xlsx":        "工单 Excel",
		"console.export_monthly":     "月度服务改进分析表",
		"console.users":              "账号管理",
		"console.add_user":           "添加账号",
		"console.role":               "角色",
		"console.agent_id":           "客服 ID（如 cli:alice）",
		"console.user_added":         "账号已添加。",
		"console.user_invalid":       "请填写用户名、有效角色和至少 8 位的密码。",
		"console.user_exists":        "该用户名已存在。",
		"console.password_too_long":  "密码最多 72 个字节（约 24 个汉字或 72 个英文字符），请缩短。",
		"console.change_password":    "修改密码",
		"console.current_password":   "当前密码",
		"console.new_password":       "新密码（至少 8 位）",
		"console.repeat_password":    "再次输入新密码",
		"console.must_change":        "首次登录请先设置您自己的密码。",
		"console.password_changed":   "密码已修改，请用新密码重新登录。",
		"console.password_mismatch":  "当前密码不对，或两次输入的新密码不一致，或新密码少于 8 位。",
		"console.hours":              "小时",
		"console.created":            "新建",
		"console.charts_hint":        "图表需要 JavaScript；下方表格包含全部数字。",
	},
	"en": {
		"console.title":              "Service dashboard",
		"console.signin":             "Sign in",
		"console.signout":            "Sign out",
		"console.name":               "User name",
		"console.password":           "Password",
		"console.login_failed":       "Wrong user name or password.",
		"console.login_wait":         "Too many attempts. Try again in {{.seconds}} s.",
		"console.csrf_failed":        "The form expired or is invalid. Reload the page and try again.",
		"console.forbidden":          "Your role may not open this page.",
		"console.error":              "Something went wrong on the server. Try again later.",
		"console.filters":            "Filters",
		"console.from":               "From",
		"console.to":                 "To",
		"console.channel":            "Channel",
		"console.category":           "Category",
		"console.priority":           "Priority",
		"console.agent":              "Agent",
		"console.granularity":        "Trend by",
		"console.any":                "All",
		"console.day":                "Day",
		"console.week":               "Week",
		"console.month":              "Month",
		"console.apply":              "Apply",
		"console.own_numbers":        "You see the numbers of your own tickets.",
		"console.tickets_created":    "Tickets created",
		"console.tickets_resolved":   "Resolved",
		"console.backlog":            "Backlog",
		"console.first_response":     "First response",
		"console.resolution":         "Resolution time",
		"console.median":             "Median",
		"console.p90":                "P90",
		"console.sla_response":       "Response SLA met",
		"console.sla_resolution":     "Resolution SLA met",
		"console.csat":               "CSAT",
		"console.csat_count":         "Ratings",
		"console.response_rate":      "Response rate",
		"console.fcr":                "First-contact resolution",
		"console.bot_resolved":       "Resolved by the bot",
		"console.bot_target":         "target ≥ 30%",
		"console.kb_citation":        "KB citation rate",
		"console.conversations":      "Conversations",
		"console.trend":              "Response and resolution trend",
		"console.period":             "Period",
		"console.backlog_status":     "Backlog by status",
		"console.backlog_priority":   "Backlog by priority",
		"console.backlog_age":        "Backlog by age",
		"console.status":             "Status",
		"console.age":                "Age",
		"console.count":              "Count",
		"console.csat_dist":          "Rating distribution",
		"console.score":              "Score",
		"console.low_ratings":        "Low ratings (≤ 3) and follow-up",
		"console.ticket":             "Ticket",
		"console.comment":            "Comment",
		"console.rated_at":           "Rated at",
		"console.follow_up":          "Follow-up",
		"console.follow.followed_up": "Followed up",
		"console.follow.pending":     "Pending",
		"console.follow.overdue":     "Overdue (> 24 h)",
		"console.none":               "No data",
		"console.top_problems":       "Top 5 problems",
		"console.share":              "Share",
		"console.box":                "Resolution time per category (hours)",
		"console.min":                "Min",
		"console.q1":                 "Q1",
		"console.q3":                 "Q3",
		"console.max":                "Max",
		"console.response_vs_csat":   "Response speed vs satisfaction",
		"console.spearman":           "Spearman correlation",
		"console.bucket":             "First response",
		"console.mean_csat":          "Mean rating",
		"console.agents":             "Agents",
		"console.channels":           "Channels",
		"console.tickets":            "Tickets",
		"console.exports":            "Export",
		"console.export_csv":         "Tickets CSV",
		"console.export_xlsx":        "Tickets Excel",
		"console.export_monthly":     "Monthly improvement analysis",
		"console.users":              "Accounts",
		"console.add_user":           "Add account",
		"console.role":               "Role",
		"console.agent_id":           "Agent id (e.g. cli:alice)",
		"console.user_added":         "Account added.",
		"console.user_invalid":       "Give a user name, a valid role and a password of at least 8 characters.",
		"console.user_exists":        "That user name is taken.",
		"console.password_too_long":  "A password may have at most 72 bytes (72 Latin letters, about 24 Chinese characters); please shorten it.",
		"console.change_password":    "Change password",
		"console.current_password":   "Current password",
		"console.new_password":       "New password (at least 8 characters)",
		"console.repeat_password":    "New password again",
		"console.must_change":        "Please choose your own password before you go on.",
		"console.password_changed":   "Password changed; please sign in with the new one.",
		"console.password_mismatch":  "The current password is wrong, the two new ones differ, or the new one is shorter than 8 characters.",
		"console.hours":              "hours",
		"console.created":            "Created",
		"console.charts_hint":        "Charts need JavaScript; the tables below hold every number.",
	},
}

// Keys lists the console's UI string keys.
func Keys() []string {
	var ks []string
	for k := range builtin["zh-CN"] {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// t renders key in lang: Options.T when it knows the key, else the built-in text (zh-CN fallback).
func (c *Console) t(lang, key string, kv ...any) string {
	args := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		args[kv[i].(string)] = kv[i+1]
	}
	if c.o.T != nil {
		if s := c.o.T(lang, key, args); s != "" && s != key {
			return s
		}
	}
	s, ok := builtin[lang][key]
	if !ok {
		if s, ok = builtin["zh-CN"][key]; !ok {
			// keys added after KEYS.md (topic files such as locales/*.live.yaml) come from the
			// embedded catalog when the console was built without Options.T
			return locales.Default().T(lang, key, args)
		}
	}
	if strings.Contains(s, "{{") {
		if tpl, err := template.New("").Parse(s); err == nil {
			var b strings.Builder
			if tpl.Execute(&b, args) == nil {
				return b.String()
			}
		}
	}
	return s
}

// lang picks the UI language: ?lang=, then the cookie, then the account's, then Accept-Language.
func (c *Console) lang(r *http.Request, s session) string {
	norm := func(l string) string {
		switch {
		case strings.HasPrefix(strings.ToLower(l), "en"):
			return "en"
		case strings.HasPrefix(strings.ToLower(l), "zh"):
			return "zh-CN"
		}
		return ""
	}
	if l := norm(r.URL.Query().Get("lang")); l != "" {
		return l
	}
	if ck, err := r.Cookie(langCookie); err == nil {
		if l := norm(ck.Value); l != "" {
			return l
		}
	}
	if l := norm(s.user.Lang); l != "" {
		return l
	}
	if l := norm(r.Header.Get("Accept-Language")); l != "" {
		return l
	}
	return "zh-CN"
}

func urlEscape(s string) string { return url.QueryEscape(s) }
