package i18n

// The export statistics and the monthly report (inner/stats; the figures
// are defined in docs/ledger.md). Reasons, states and the export code
// reuse the export workflow's messages.
func init() {
	add("ko", map[string]string{
		"stats.title": "반출 통계", "stats.monthly": "반출 월간 보고서",
		"stats.intro": "선택한 기간에 요청된 반출을 셉니다. 날짜는 이 장비의 시간대 기준이며 종료일도 포함합니다.",
		"stats.from":  "시작일", "stats.to": "종료일", "stats.show": "보기", "stats.month_pick": "월", "stats.open_month": "보고서 열기",
		"stats.bad_period": "기간이 잘못되었습니다. 날짜는 YYYY-MM-DD로, 시작일은 종료일보다 앞서게, 길이는 120개월 이내로 입력하십시오.",
		"stats.bad_month":  "월은 YYYY-MM으로 입력하십시오 (예: 2026-11).",
		"stats.summary":    "요약", "stats.total": "요청 건수", "stats.outcomes": "처리 결과",
		"stats.outcome.delivered": "전달됨", "stats.outcome.rejected": "반려", "stats.outcome.cancelled": "철회",
		"stats.outcome.failed": "실패", "stats.outcome.in_progress": "진행 중",
		"stats.masked": "마스킹 비율 (전체)", "stats.approved_masked": "마스킹 비율 (승인된 반출)",
		"stats.refused": "반려 (결정된 요청 중)", "stats.rate": "%d / %d건 (%s)",
		"stats.turnaround": "처리 시간 (시간)", "stats.decision": "요청 → 승인", "stats.delivery": "승인 → 전달", "stats.overall": "요청 → 전달",
		"stats.n": "건수", "stats.median": "중앙값", "stats.p90": "90번째 백분위",
		"stats.by_month": "월별 요청", "stats.by_reason": "사유별 요청", "stats.by_agency": "요청 기관별", "stats.by_camera": "카메라별",
		"stats.by_outcome": "처리 결과별",
		"stats.month":      "월", "stats.reason": "사유", "stats.agency": "요청 기관", "stats.camera": "카메라", "stats.location": "설치 위치",
		"stats.count": "건수", "stats.others": "그 밖의 %d개 기관", "stats.other_cameras": "그 밖의 카메라",
		"stats.report": "월간 보고서", "stats.print": "인쇄", "stats.printed": "출력일시", "stats.period": "기간",
		"stats.list": "이달의 반출 목록", "stats.list_limited": "목록은 %d건까지 싣습니다(이달 전체 %d건).", "stats.month_ledger": "이달의 반출관리대장 전체(엑셀)", "stats.none": "이 기간에 요청된 반출이 없습니다.",
		"stats.requested_at": "요청일시", "stats.decided_by": "결정자", "stats.state": "상태",
		"stats.approval": "확인", "stats.sign": "담당 ____________ (인)   관리책임자 ____________ (인)",
	})
	add("en", map[string]string{
		"stats.title": "Export statistics", "stats.monthly": "Monthly export report",
		"stats.intro": "Counts the exports requested in the chosen period. Days are this appliance's; the last day is included.",
		"stats.from":  "From", "stats.to": "To", "stats.show": "Show", "stats.month_pick": "Month", "stats.open_month": "Open the report",
		"stats.bad_period": "Bad period: give days as YYYY-MM-DD, the first before the last, at most 120 months apart.",
		"stats.bad_month":  "Give the month as YYYY-MM (e.g. 2026-11).",
		"stats.summary":    "Summary", "stats.total": "Requests", "stats.outcomes": "Outcomes",
		"stats.outcome.delivered": "delivered", "stats.outcome.rejected": "rejected", "stats.outcome.cancelled": "withdrawn",
		"stats.outcome.failed": "failed", "stats.outcome.in_progress": "in progress",
		"stats.masked": "Masked (all exports)", "stats.approved_masked": "Masked (approved exports)",
		"stats.refused": "Rejected (of the decided)", "stats.rate": "%d of %d (%s)",
		"stats.turnaround": "Turnaround (hours)", "stats.decision": "request → approval", "stats.delivery": "approval → delivery",
		"stats.overall": "request → delivery",
		"stats.n":       "Count", "stats.median": "Median", "stats.p90": "90th percentile",
		"stats.by_month": "Requests by month", "stats.by_reason": "Requests by reason", "stats.by_agency": "By requesting agency",
		"stats.by_camera": "By camera", "stats.by_outcome": "By outcome",
		"stats.month": "Month", "stats.reason": "Reason", "stats.agency": "Agency", "stats.camera": "Camera", "stats.location": "Location",
		"stats.count": "Exports", "stats.others": "%d other agencies", "stats.other_cameras": "Other cameras",
		"stats.report": "Monthly report", "stats.print": "Print", "stats.printed": "Printed", "stats.period": "Period",
		"stats.list": "The month's exports", "stats.list_limited": "The list stops at %d exports (the month has %d).", "stats.month_ledger": "The month's whole ledger (Excel)", "stats.none": "No export was requested in this period.",
		"stats.requested_at": "Requested", "stats.decided_by": "Decided by", "stats.state": "State",
		"stats.approval": "Checked", "stats.sign": "Officer ____________ (sign)   Manager ____________ (sign)",
	})
}
