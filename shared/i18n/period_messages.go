package i18n

// A request by camera and period: the form that finds the recording
// covering it, and its field errors; a ledger copy withdrawn before it left; the outer's receipt.
func init() {
	add("ko", map[string]string{
		"export.f.camera": "카메라", "find.submit": "영상 찾기",
		"find.intro":           "카메라와 기간을 고르면 그 기간을 담은 녹화 영상을 찾아 그 구간만 반출 요청서에 넣습니다.",
		"find.zone":            "시각은 이 장비의 시간대(%s) 기준입니다.",
		"find.by_time":         "카메라와 기간으로 요청",
		"field.unknown_camera": "없는 카메라입니다.",
		"exports.receipt":      "수신 확인증", "exports.receipt_hint": "외부 장비가 서명한 수신 확인(전송 키로 검증)",
		"ledger.state.withdrawn": "반출 전 폐기", "ledger.withdrawn": "폐기",
		"ledger.withdrawn_note": "이 사본은 반출되기 전에 폐기되었습니다(재검토로 돌려보냄 또는 취소). 이 표식을 지닌 영상이 밖에서 발견되었다면 관제센터 안에서 유출된 것입니다.",
		"field.wall_clock":      "날짜와 시각으로 입력하십시오 (2026-12-05T14:30:00).",
		"field.no_footage":      "이 카메라에 그 기간의 녹화 영상이 없습니다.",
		"field.beyond":          "녹화 영상은 %s 구간만 담고 있습니다.",
		"field.spans":           "기간이 녹화 파일 여러 개에 걸칩니다: %s. 파일마다 따로 요청하십시오.",
	})
	add("en", map[string]string{
		"export.f.camera": "Camera", "find.submit": "Find the footage",
		"find.intro":           "Choose a camera and a period: the recording that holds it is found and the request is cut to that period.",
		"find.zone":            "Times are in this appliance's zone (%s).",
		"find.by_time":         "Request by camera and time",
		"field.unknown_camera": "no such camera.",
		"exports.receipt":      "Delivery receipt", "exports.receipt_hint": "the outer's signed receipt (verify with its transfer key)",
		"ledger.state.withdrawn": "withdrawn before release", "ledger.withdrawn": "Withdrawn",
		"ledger.withdrawn_note": "This copy was discarded before it left (sent back to review, or cancelled). A video carrying this mark found outside leaked from inside the control center.",
		"field.wall_clock":      "give a date and a time (2026-12-05T14:30:00).",
		"field.no_footage":      "this camera has no recording of that period.",
		"field.beyond":          "the recording holds %s only.",
		"field.spans":           "the period crosses several recordings: %s. File one request per recording.",
	})
}
