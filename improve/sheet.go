package improve

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/reports/export"
)

// SheetName is the monthly workbook's improvement sheet.
const SheetName = "改进记录 Improvement"

// EffectWeeks is the effect check's span on the monthly sheet.
const EffectWeeks = 4

// MonthlySheet is the improvement sheet of the monthly 服务改进分析表 for [from, to): every record
// created before to that was still open at to or changed in the month — one row per action (a record
// without actions has one row), with the record's 5-Why, states and its effect check over EffectWeeks
// weeks.
func (s *Service) MonthlySheet(ctx context.Context, from, to time.Time) (export.Sheet, error) {
	sh := export.Sheet{Name: SheetName, Rows: [][]any{{"编号 no", "问题类型 category", "现象 phenomenon", "Why1", "Why2", "Why3", "Why4", "Why5",
		"根本原因 root cause", "记录状态 status", "关联工单 tickets", "措施 # action", "类型 term", "措施 description", "责任人 owner",
		"完成时间 due", "验收标准 acceptance", "措施状态 state", "首个措施完成 first done",
		"前 每周工单 before tickets/wk", "后 每周工单 after tickets/wk", "前 解决中位 h before", "后 解决中位 h after", "前 CSAT before", "后 CSAT after"}}}
	rs, err := s.List(ctx, ListFilter{Limit: 1000})
	if err != nil {
		return sh, err
	}
	num := func(v *float64) any {
		if v == nil {
			return ""
		}
		return *v
	}
	for i := len(rs) - 1; i >= 0; i-- { // oldest first
		r := rs[i]
		if !r.CreatedAt.Before(to) || (r.Status != RecordOpen && r.UpdatedAt.Before(from)) {
			continue
		}
		e, err := s.Effect(ctx, r.No, EffectWeeks)
		if err != nil {
			return sh, err
		}
		whys := make([]any, MaxWhys)
		for j := range whys {
			whys[j] = ""
			if j < len(r.Whys) {
				whys[j] = r.Whys[j]
			}
		}
		head := append([]any{r.No, r.Category, r.Phenomenon}, whys...)
		head = append(head, r.RootCause, r.Status, strings.Join(r.Tickets, " "))
		first := ""
		if e.Pivot != nil {
			first = e.Pivot.In(s.loc).Format("2006-01-02 15:04")
		}
		tail := []any{first, num(e.Before.PerWeek), num(e.After.PerWeek), num(e.Before.MedianResolutionH), num(e.After.MedianResolutionH),
			num(e.Before.CSAT), num(e.After.CSAT)}
		acts := r.Actions
		if len(acts) == 0 {
			acts = []Action{{}}
		}
		for _, a := range acts {
			id := ""
			if a.ID != 0 {
				id = "#" + strconv.FormatInt(a.ID, 10)
			}
			row := append(append([]any{}, head...), id, a.Term, a.Description, a.Owner, a.Due, a.Acceptance, a.State)
			sh.Rows = append(sh.Rows, append(row, tail...))
		}
	}
	return sh, nil
}
