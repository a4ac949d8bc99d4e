package i18n

// The offline hand-over (the slip, the password shown once, the package's
// one download), the audited view of an original, and the admin's
// approval of a long viewing period.
func init() {
	add("ko", map[string]string{
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
