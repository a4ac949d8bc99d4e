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
		"nav.exports":              "반출", "nav.footage": "영상", "nav.cameras": "카메라",
		"camera.title": "카메라 관리", "camera.name_free": "쓸 수 있는 이름입니다.", "camera.add": "등록", "camera.registered": "등록",
		"camera.retired": "폐기됨", "camera.retire": "폐기", "camera.none": "등록된 카메라가 없습니다.",
		"camera.kind.fixed": "고정형", "camera.kind.dome": "돔형", "camera.kind.ptz": "회전형(PTZ)", "camera.kind.bullet": "불릿형", "camera.kind.other": "기타",
		"footage.title": "영상 반입", "footage.intro": "NVR에서 내보낸 원본 영상을 올리십시오. 반입할 때 SHA-256 해시를 계산해 무결성 기준으로 보관하고, 반출할 때마다 다시 확인합니다. 연결이 끊기면 끊긴 곳부터 이어서 올립니다.",
		"footage.camera": "카메라", "footage.file": "파일", "footage.limit": "최대 %d GB", "footage.sending": "올리는 중…", "footage.resuming": "연결이 끊겨 이어서 올리는 중…",
		"footage.checking": "영상을 확인하는 중…", "footage.failed": "올리지 못했습니다:", "footage.upload": "올리기", "footage.facts": "영상 정보",
		"footage.imported": "반입", "footage.retain": "보존 기한", "footage.deleted": "삭제됨", "footage.none": "반입한 영상이 없습니다.",
		"exports.title": "반출 요청", "exports.new": "반출 요청서 작성", "exports.one": "반출", "exports.days": "%d일", "exports.keep": "원본 해상도 유지",
		"exports.delivery": "전달 방식", "exports.online": "경찰 포털로 전송", "exports.offline": "오프라인 (암호 봉인 파일 직접 전달)",
		"exports.masking": "비식별 처리", "exports.masking_default": "얼굴·사람·번호판 자동 모자이크", "exports.no_mask": "비식별 처리하지 않음",
		"exports.submit": "요청 접수", "exports.code": "반출 코드", "exports.state": "상태", "exports.requested": "접수", "exports.decided": "결정",
		"exports.package": "봉인 패키지 SHA-256", "exports.error": "오류", "exports.approve": "승인", "exports.reject": "반려", "exports.cancel": "요청 철회",
		"exports.retry": "다시 시도", "exports.when": "일시", "exports.who": "처리자", "exports.none": "반출 요청이 없습니다.",
		"exports.stage.transcode": "구간 자르기·변환", "exports.stage.render": "검출·모자이크·워터마크", "exports.stage.seal": "암호화·서명", "exports.stage.outbox": "전송 대기열",
		"exports.state.requested": "승인 대기", "exports.state.approved": "승인됨", "exports.state.transcoding": "변환 중", "exports.state.rendering": "처리 중",
		"exports.state.sealing": "봉인 중", "exports.state.queued": "전송 대기", "exports.state.transferring": "전송 중", "exports.state.delivered": "전달됨",
		"exports.state.refused": "수신 거부", "exports.state.ready": "전달 준비됨", "exports.state.rejected": "반려됨", "exports.state.cancelled": "철회됨", "exports.state.failed": "실패",
		"exports.stage_state.pending": "대기", "exports.stage_state.running": "진행 중", "exports.stage_state.done": "완료", "exports.stage_state.skipped": "해당 없음", "exports.stage_state.failed": "실패",
		"reason.theft": "절도", "reason.assault": "폭행", "reason.traffic_accident": "교통사고", "reason.missing_person": "실종자 수색", "reason.property_damage": "재물 손괴", "reason.other": "기타",

		"field.required": "반드시 입력하십시오.", "field.too_long": "%d자 이하로 입력하십시오.", "field.control": "제어 문자는 쓸 수 없습니다.",
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
		"nav.exports":              "Exports", "nav.footage": "Footage", "nav.cameras": "Cameras",
		"camera.title": "Cameras", "camera.name_free": "This name is free.", "camera.add": "Register", "camera.registered": "Registered",
		"camera.retired": "retired", "camera.retire": "Retire", "camera.none": "No cameras registered.",
		"camera.kind.fixed": "fixed", "camera.kind.dome": "dome", "camera.kind.ptz": "PTZ", "camera.kind.bullet": "bullet", "camera.kind.other": "other",
		"footage.title": "Footage", "footage.intro": "Upload an original clip exported from the NVR. Its SHA-256 is computed on arrival and kept as the integrity reference, checked again before each export. A broken connection resumes where it stopped.",
		"footage.camera": "Camera", "footage.file": "File", "footage.limit": "up to %d GB", "footage.sending": "Sending…", "footage.resuming": "The connection broke; resuming…",
		"footage.checking": "Checking the video…", "footage.failed": "The upload failed:", "footage.upload": "Upload", "footage.facts": "Video",
		"footage.imported": "Ingested", "footage.retain": "Kept until", "footage.deleted": "deleted", "footage.none": "No footage ingested.",
		"exports.title": "Exports", "exports.new": "New export request", "exports.one": "Export", "exports.days": "%d days", "exports.keep": "keep the resolution",
		"exports.delivery": "Delivery", "exports.online": "to the police portal", "exports.offline": "offline (a password-sealed file handed over)",
		"exports.masking": "Masking", "exports.masking_default": "faces, people and plates masked automatically", "exports.no_mask": "no masking",
		"exports.submit": "File the request", "exports.code": "Export code", "exports.state": "State", "exports.requested": "Filed", "exports.decided": "Decided",
		"exports.package": "Sealed package SHA-256", "exports.error": "Error", "exports.approve": "Approve", "exports.reject": "Reject", "exports.cancel": "Withdraw",
		"exports.retry": "Retry", "exports.when": "When", "exports.who": "Who", "exports.none": "No export requests.",
		"exports.stage.transcode": "Cut / transcode", "exports.stage.render": "Detect, mask, watermark", "exports.stage.seal": "Encrypt and sign", "exports.stage.outbox": "Outbox",
		"exports.state.requested": "awaiting approval", "exports.state.approved": "approved", "exports.state.transcoding": "transcoding", "exports.state.rendering": "rendering",
		"exports.state.sealing": "sealing", "exports.state.queued": "queued", "exports.state.transferring": "transferring", "exports.state.delivered": "delivered",
		"exports.state.refused": "refused by the outer", "exports.state.ready": "ready to hand over", "exports.state.rejected": "rejected", "exports.state.cancelled": "withdrawn", "exports.state.failed": "failed",
		"exports.stage_state.pending": "waiting", "exports.stage_state.running": "running", "exports.stage_state.done": "done", "exports.stage_state.skipped": "not needed", "exports.stage_state.failed": "failed",
		"reason.theft": "theft", "reason.assault": "assault", "reason.traffic_accident": "traffic accident", "reason.missing_person": "missing person", "reason.property_damage": "property damage", "reason.other": "other",

		"field.required": "required.", "field.too_long": "at most %d characters.", "field.control": "control characters are not allowed.",
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
