package i18n

// The outer portal's catalog, download and admin pages (outer/portal).
func init() {
	add("ko", map[string]string{
		"nav.packages": "내 영상", "nav.admin_packages": "보관 패키지", "nav.peers": "연결된 내부 장비", "nav.storage": "저장 공간",

		"packages.title":  "수신 영상 목록",
		"packages.intro":  "귀하에게 반출되어 열람 기간이 시작된 영상만 보입니다. 열람 기간이 끝나거나 관리자가 회수하면 파일과 키가 파기됩니다.",
		"packages.search": "검색", "packages.search_hint": "반출 코드, 카메라, 설치 위치", "packages.search_go": "찾기",
		"packages.sort": "정렬", "packages.sort.arrival": "도착 순", "packages.sort.footage": "촬영 시각 순", "packages.sort.days_left": "남은 기간 순",
		"packages.code": "반출 코드", "packages.camera": "카메라", "packages.location": "설치 위치", "packages.footage": "촬영 시각",
		"packages.reason": "반출 사유", "packages.size": "크기", "packages.arrived": "도착", "packages.left": "남은 기간", "packages.state": "상태",
		"packages.signature": "서명", "packages.agency": "수신 기관", "packages.window": "열람 기간", "packages.sha256": "패키지 SHA-256",
		"packages.no_end": "기한 없음", "packages.days": "%d일 남음",
		"packages.state.available": "열람 가능", "packages.state.destroyed": "파기됨",
		"packages.why_revoked": "관리자 회수: %s", "packages.why_expired": "열람 기간 종료",
		"packages.verified":  "서명 검증됨: 도착할 때 내부 장비 %s의 고정된 서명 키로 확인했습니다.",
		"packages.unpinned":  "서명은 온전하지만, 서명 키가 연결된 내부 장비의 고정 키가 아닙니다 (보낸 곳: %s).",
		"packages.none":      "받은 영상이 없습니다.",
		"packages.not_found": "없는 영상입니다.",

		"package.title": "영상 상세", "package.download": "봉인 패키지 내려받기", "package.play": "브라우저에서 재생",
		"package.download_hint": "내려받은 파일은 암호화된 봉인 패키지입니다. 열람 기간 안에 sealgate-open으로 열 수 있으며, 내려받기는 모두 감사 기록에 남습니다. 끊기면 이어받을 수 있습니다.",
		"package.back":          "목록으로", "package.gone_title": "파기된 영상",
		"package.gone": "%s 영상은 파기되었습니다.", "package.gone_when": "파기 시각: %s",
		"package.gone_hint": "파일과 암호 키가 삭제되어 더 이상 내려받거나 재생할 수 없습니다.",

		"admin.recipient": "수신자", "admin.peer": "내부 장비",
		"admin_packages.title": "보관 패키지", "admin_packages.intro": "이 장비가 보관한 모든 봉인 패키지입니다. 회수하면 즉시 파기되며 사유와 함께 감사 기록에 남습니다.",
		"admin_packages.revoke": "회수·파기", "admin_packages.reason": "회수 사유 (5자 이상)", "admin_packages.none": "보관한 패키지가 없습니다.",
		"admin_packages.need_reason": "회수 사유를 5자 이상 1000자 이하로 적으십시오.", "admin_packages.already": "이미 파기된 패키지입니다.",
		"admin_packages.revoked": "%s (수신자 %s) 패키지를 파기했습니다.",

		"admin_peers.title": "연결된 내부 장비", "admin_peers.intro": "설정 파일(transfer.peers)에 등록된 내부 장비와 각 장비에서 받은 패키지입니다. 마지막 연락은 마지막 도착 시각입니다.",
		"admin_peers.fingerprints": "지문", "admin_peers.transfer": "전송 키", "admin_peers.signing": "서명 키", "admin_peers.last": "마지막 도착",
		"admin_peers.held": "보관 중", "admin_peers.destroyed": "파기됨", "admin_peers.bytes": "보관 용량", "admin_peers.arrivals": "받은 패키지",
		"admin_peers.unpaired": "연결 설정에 없음", "admin_peers.never": "아직 없음", "admin_peers.none": "연결된 내부 장비가 없습니다.",
		"admin_peers.arriving": "도착 중인 패키지", "admin_peers.written": "마지막 기록", "admin_peers.none_arriving": "도착 중인 패키지가 없습니다.",

		"admin_storage.title": "저장 공간", "admin_storage.dir": "저장 위치", "admin_storage.used": "사용 중", "admin_storage.of_quota": "할당량의 %d%%, %s 중",
		"admin_storage.quota": "할당량 (transfer.quota_gb)", "admin_storage.no_quota": "없음 (디스크 전체)", "admin_storage.free": "디스크 여유 공간",
		"admin_storage.unknown": "알 수 없음", "admin_storage.reserve": "수신 예비 공간", "admin_storage.room": "새 패키지에 남은 공간",
		"admin_storage.hint":   "수신기는 할당량을 넘기거나 디스크 여유 공간이 예비 공간 아래로 내려갈 패키지는 받지 않습니다. 사용량에는 도착 중인 패키지도 포함됩니다.",
		"admin_storage.recent": "최근 전송",
	})
	add("en", map[string]string{
		"nav.packages": "My clips", "nav.admin_packages": "Packages", "nav.peers": "Inner appliances", "nav.storage": "Storage",

		"packages.title":  "Clips addressed to you",
		"packages.intro":  "Only clips exported to you whose viewing period has begun are listed. When the period ends, or an administrator revokes a clip, its file and keys are destroyed.",
		"packages.search": "Search", "packages.search_hint": "export code, camera, location", "packages.search_go": "Find",
		"packages.sort": "Sort", "packages.sort.arrival": "by arrival", "packages.sort.footage": "by footage time", "packages.sort.days_left": "by days left",
		"packages.code": "Export code", "packages.camera": "Camera", "packages.location": "Location", "packages.footage": "Footage",
		"packages.reason": "Reason", "packages.size": "Size", "packages.arrived": "Arrived", "packages.left": "Days left", "packages.state": "State",
		"packages.signature": "Signature", "packages.agency": "Agency", "packages.window": "Viewing period", "packages.sha256": "Package SHA-256",
		"packages.no_end": "no end", "packages.days": "%d days left",
		"packages.state.available": "available", "packages.state.destroyed": "destroyed",
		"packages.why_revoked": "revoked by an administrator: %s", "packages.why_expired": "the viewing period ended",
		"packages.verified":  "Signature verified on arrival against the pinned signing key of inner appliance %s.",
		"packages.unpinned":  "The signature is intact, but its key is not a paired inner appliance's pinned key (sent by %s).",
		"packages.none":      "No clips have been addressed to you.",
		"packages.not_found": "There is no such clip.",

		"package.title": "Clip", "package.download": "Download the sealed package", "package.play": "Play in the browser",
		"package.download_hint": "The file is the encrypted, sealed package: open it with sealgate-open within the viewing period. Every download is recorded in the audit log; a broken download resumes.",
		"package.back":          "Back to the list", "package.gone_title": "Clip destroyed",
		"package.gone": "The clip %s has been destroyed.", "package.gone_when": "Destroyed at %s",
		"package.gone_hint": "Its file and keys are deleted: it can no longer be downloaded or played.",

		"admin.recipient": "Recipient", "admin.peer": "Inner appliance",
		"admin_packages.title": "Packages", "admin_packages.intro": "Every sealed package this appliance holds. A revoked package is destroyed at once, and the reason goes to the audit log.",
		"admin_packages.revoke": "Revoke and destroy", "admin_packages.reason": "Reason (5 characters or more)", "admin_packages.none": "No packages held.",
		"admin_packages.need_reason": "Give a reason of 5 to 1000 characters.", "admin_packages.already": "That package is destroyed already.",
		"admin_packages.revoked": "The package %s (for %s) is destroyed.",

		"admin_peers.title": "Inner appliances", "admin_peers.intro": "The inner appliances paired in the configuration (transfer.peers) and the packages received from each. Last contact is the latest arrival.",
		"admin_peers.fingerprints": "Fingerprints", "admin_peers.transfer": "transfer", "admin_peers.signing": "signing", "admin_peers.last": "Latest arrival",
		"admin_peers.held": "Held", "admin_peers.destroyed": "Destroyed", "admin_peers.bytes": "Bytes held", "admin_peers.arrivals": "Received",
		"admin_peers.unpaired": "not in the pairing configuration", "admin_peers.never": "none yet", "admin_peers.none": "No inner appliances are paired.",
		"admin_peers.arriving": "Packages arriving", "admin_peers.written": "Last written", "admin_peers.none_arriving": "No packages are arriving.",

		"admin_storage.title": "Storage", "admin_storage.dir": "Store directory", "admin_storage.used": "Used", "admin_storage.of_quota": "%d%% of %s",
		"admin_storage.quota": "Quota (transfer.quota_gb)", "admin_storage.no_quota": "none (the whole disk)", "admin_storage.free": "Free on the disk",
		"admin_storage.unknown": "unknown", "admin_storage.reserve": "Receiver's reserve", "admin_storage.room": "Room for new packages",
		"admin_storage.hint":   "The receiver refuses a package that would exceed the quota or leave less free space on the disk than the reserve. Used space counts packages still arriving.",
		"admin_storage.recent": "Recent transfers",
	})
}
