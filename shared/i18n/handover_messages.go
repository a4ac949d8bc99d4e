package i18n

// The offline hand-over (the slip, the password shown once, the package's
// one download), the audited view of an original, and the admin's
// approval of a long viewing period, the approver's release after the
// leak check.
func init() {
	add("ko", map[string]string{
		"footage.view": "원본 영상", "export.f.purpose": "열람 목적", "footage.watch": "열람",
		"footage.view_intro":    "원본 열람은 열람자, 일시, 목적과 함께 감사 기록에 남습니다.",
		"footage.view_recorded": "이 열람은 감사 기록에 남았습니다.",
		"viewing.needs":         "열람 기간 %d일은 30일을 넘으므로 관리자의 승인이 먼저 필요합니다.", "viewing.approve": "열람 기간 승인",
		"viewing.hint": "30일을 넘는 열람 기간은 관리자의 승인이 필요합니다.", "viewing.approved_by": "기간 승인",
		"exports.state.checking": "반출 전 확인 대기", "release.title": "반출 전 확인: 모자이크 미리보기와 노출 점검",
		"release.checked": "독립 검출기로 %d개 프레임을 점검했고, 확인할 프레임이 %d개 있습니다.", "release.frame": "%d번 프레임",
		"release.reason.face_detected": "가려지지 않은 얼굴일 수 있음", "release.reason.track_gap": "추적 중 빠진 프레임", "release.reason.cut_by_border": "화면 가장자리에 걸친 영역",
		"release.confirm": "확인함: 노출 없음", "release.do": "확인 완료, 봉인하여 반출",
		"release.leak":            "노출이 보이면 반출을 철회하고 검토 편집기에서 마스킹을 고친 뒤 다시 요청하십시오.",
		"exports.state.reviewing": "마스킹 재검토 중", "release.send_back": "검토 편집기로 돌려보내기",
		"release.reviewing":   "승인자가 마스킹 재검토를 요청했습니다. 검토 편집기에서 고치고 계획을 저장한 뒤 다시 처리하십시오.",
		"release.open_review": "검토 편집기 열기", "release.rerender": "검토한 계획으로 다시 처리", "release.save_first": "검토 편집기에서 계획을 저장하면 다시 처리할 수 있습니다.",
		"export.f.suspects": "확인할 프레임", "field.unconfirmed": "확인하지 않은 프레임이 %d개 있습니다.",
		"export.f.password": "인계 암호", "field.short": "%d자 이상이어야 합니다.", "field.offline_only": "오프라인 전달에만 암호를 정합니다.",
		"export.f.password_hint": "비워 두면 암호를 생성해 인계할 때 한 번 보여 줍니다.",
		"handover.title":         "오프라인 인계", "handover.slip": "반출 영상 인계증", "handover.file": "패키지 파일",
		"handover.signer": "서명 키", "handover.at": "인계 일시", "handover.open": "여는 방법",
		"handover.signature": "받은 사람은 파일의 SHA-256과 서명 키를 위 값과 비교한 뒤 서명합니다.",
		"handover.received":  "인수자", "handover.handed": "인계자",
		"handover.password": "암호", "handover.password_once": "암호는 지금 한 번만 표시됩니다. 매체와 따로 전달하십시오. 이 화면을 닫으면 누구도 다시 볼 수 없습니다.",
		"handover.download": "봉인 패키지 내려받기", "handover.download_once": "한 번만 내려받을 수 있습니다 (끊기면 이어받기 가능). %d시간 안에 내려받지 않으면 삭제됩니다.",
		"handover.print": "인계증 인쇄", "handover.do": "오프라인 인계", "handover.confirm": "수신자에게 직접 전달합니다. 암호와 파일은 한 번만 제공됩니다.",
	})
	add("en", map[string]string{
		"footage.view": "Original footage", "export.f.purpose": "Purpose of viewing", "footage.watch": "Watch",
		"footage.view_intro":    "Viewing an original is recorded in the audit log: who, when and why.",
		"footage.view_recorded": "This view is on record in the audit log.",
		"viewing.needs":         "A viewing period of %d days is longer than 30: an admin must approve it first.", "viewing.approve": "Approve the viewing period",
		"viewing.hint": "A viewing period longer than 30 days needs an admin's approval.", "viewing.approved_by": "period approved by",
		"exports.state.checking": "Awaiting release", "release.title": "Before release: the masked preview and the leak check",
		"release.checked": "Independent detectors checked %d frames; %d frames need a look.", "release.frame": "Frame %d",
		"release.reason.face_detected": "may show an unmasked face", "release.reason.track_gap": "a frame missing inside a track", "release.reason.cut_by_border": "a region cut by the frame's edge",
		"release.confirm": "Checked: nothing shows", "release.do": "Confirmed: seal and release",
		"release.leak":            "If something shows, withdraw the export, correct the masking in the review editor and request it again.",
		"exports.state.reviewing": "Masking under review", "release.send_back": "Send back to the review editor",
		"release.reviewing":   "The approver asked for the masking to be reviewed. Correct it in the review editor, save the plan, then render again.",
		"release.open_review": "Open the review editor", "release.rerender": "Render again with the reviewed plan", "release.save_first": "Once the plan is saved in the review editor it can be rendered again.",
		"export.f.suspects": "Frames to check", "field.unconfirmed": "%d frames are not confirmed.",
		"export.f.password": "Hand-over password", "field.short": "must be at least %d characters.", "field.offline_only": "only an offline delivery has a password.",
		"export.f.password_hint": "Leave empty to have one generated and shown once at the hand-over.",
		"handover.title":         "Offline hand-over", "handover.slip": "Export hand-over slip", "handover.file": "Package file",
		"handover.signer": "Signing key", "handover.at": "Handed over", "handover.open": "To open it",
		"handover.signature": "The recipient compares the file's SHA-256 and the signing key with the values above, then signs.",
		"handover.received":  "Received by", "handover.handed": "Handed over by",
		"handover.password": "Password", "handover.password_once": "The password is shown now, once. Hand it over apart from the medium. Once this page is closed no one can see it again.",
		"handover.download": "Download the sealed package", "handover.download_once": "It can be downloaded once (a broken download resumes). It is deleted if not downloaded within %d hour(s).",
		"handover.print": "Print the slip", "handover.do": "Hand over offline", "handover.confirm": "For the recipient in person: the password and the file are given once.",
	})
}
