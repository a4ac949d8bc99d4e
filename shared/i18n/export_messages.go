package i18n

// The export workflow's form fields and what can be wrong with them
// (inner/export names a field and a problem; the console and the CLI say it).
func init() {
	add("ko", map[string]string{
		"export.f.camera_name": "카메라 이름", "export.f.location": "설치 위치", "export.f.vms_id": "VMS ID", "export.f.kind": "카메라 종류",
		"export.f.latlong": "위도·경도", "export.f.footage": "영상", "export.f.reason": "요청 사유", "export.f.detail": "상세 사유",
		"export.f.requester_name": "요청자 이름", "export.f.agency": "요청 기관", "export.f.phone": "연락처", "export.f.document_no": "공문 번호",
		"export.f.recipient": "수신 경찰관", "export.f.viewing_days": "열람 기간", "export.f.transcode": "변환",
		"export.f.justification": "비식별 처리 제외 사유", "export.f.from": "시작 시각", "export.f.to": "종료 시각",
		"export.f.decision_reason": "결정 사유",
		"field.required":           "반드시 입력하십시오.", "field.too_long": "%d자 이하로 입력하십시오.", "field.control": "제어 문자는 쓸 수 없습니다.",
		"field.choice": "다음 중 하나여야 합니다: %s", "field.taken": "이미 쓰고 있는 이름입니다.",
		"field.latlong": "위도(-90~90)와 경도(-180~180)를 함께 입력하십시오.", "field.unknown": "없는 영상입니다.",
		"field.deleted": "보존 기간이 끝나 삭제된 영상입니다.", "field.justify": "비식별 처리를 끄려면 사유를 10자 이상 적으십시오.",
		"field.time": "초(90), 시:분:초(00:01:30) 또는 RFC 3339 시각으로 입력하십시오.", "field.outside": "영상 길이(%s초) 안이어야 합니다.",
		"field.no_start": "이 영상에는 녹화 시작 시각이 없어 영상 안의 위치(초)로 입력해야 합니다.", "field.before_from": "시작 시각보다 뒤여야 합니다.",
	})
	add("en", map[string]string{
		"export.f.camera_name": "Camera name", "export.f.location": "Location", "export.f.vms_id": "VMS ID", "export.f.kind": "Camera type",
		"export.f.latlong": "Latitude and longitude", "export.f.footage": "Footage", "export.f.reason": "Reason", "export.f.detail": "Details",
		"export.f.requester_name": "Requester", "export.f.agency": "Agency", "export.f.phone": "Phone", "export.f.document_no": "Document number",
		"export.f.recipient": "Recipient officer", "export.f.viewing_days": "Viewing period", "export.f.transcode": "Transcoding",
		"export.f.justification": "Justification for no masking", "export.f.from": "From", "export.f.to": "To",
		"export.f.decision_reason": "Reason for the decision",
		"field.required":           "required.", "field.too_long": "at most %d characters.", "field.control": "control characters are not allowed.",
		"field.choice": "must be one of: %s", "field.taken": "a camera in service already has this name.",
		"field.latlong": "give both latitude (-90 to 90) and longitude (-180 to 180).", "field.unknown": "no such footage.",
		"field.deleted": "the footage was deleted when its retention ended.", "field.justify": "switching masking off needs a justification of at least 10 characters.",
		"field.time": "give seconds (90), h:m:s (00:01:30) or an RFC 3339 time.", "field.outside": "must fall within the footage (%s s).",
		"field.no_start": "this footage carries no recording start time: give an offset into it.", "field.before_from": "must come after From.",
	})
}

func add(lang string, m map[string]string) {
	for k, v := range m {
		messages[lang][k] = v
	}
}
