package i18n

// The admins' device page (accountui, /device).
func init() {
	add("ko", map[string]string{
		"nav.device": "장비 상태", "device.title": "장비 상태",
		"device.software": "소프트웨어", "device.daemon": "데몬", "device.version": "버전", "device.started": "시작",
		"device.uptime": "가동 %s", "device.update": "마지막 업데이트", "device.never": "기록 없음",
		"device.clock": "시각 동기화", "device.clock_synced": "동기화됨 (추정 오차 %.1f ms)",
		"device.clock_unsynced": "동기화되지 않음: 반출 영상의 시각은 증거가 되므로 NTP를 확인하십시오.", "device.clock_unknown": "확인 불가: %s",
		"device.storage": "저장 공간", "device.dir": "용도", "device.path": "경로", "device.free": "여유",
		"device.free_of":  "%s / %s (%.0f%% 남음)",
		"device.dir.data": "데이터", "device.dir.keys": "키", "device.dir.footage": "원본 영상", "device.dir.exports": "반출 작업", "device.dir.outbox": "전송 대기", "device.dir.store": "수신 패키지",
		"device.keys": "인증서와 키", "device.certificate": "웹 인증서", "device.cert_until": "%s까지 (%d일 남음)", "device.cert_generated": "처음 시작할 때 만든 자체 서명 인증서",
		"device.key_file": "파일", "device.fingerprint": "지문 (페어링 때 소리 내어 비교)", "device.mode": "권한", "device.age": "만든 지",
		"device.unsafe": "다른 사용자가 읽을 수 있음", "device.days": "%d일",
		"device.records": "기록", "device.anchor": "감사 기록 앵커", "device.backup": "마지막 백업",
	})
	add("en", map[string]string{
		"nav.device": "Device", "device.title": "Device",
		"device.software": "Software", "device.daemon": "Daemon", "device.version": "Version", "device.started": "Started",
		"device.uptime": "up %s", "device.update": "Last update", "device.never": "none on record",
		"device.clock": "Time sync", "device.clock_synced": "synchronised (estimated error %.1f ms)",
		"device.clock_unsynced": "not synchronised: exports carry timestamps as evidence; check NTP.", "device.clock_unknown": "cannot tell: %s",
		"device.storage": "Storage", "device.dir": "For", "device.path": "Path", "device.free": "Free",
		"device.free_of":  "%s of %s (%.0f%% free)",
		"device.dir.data": "Data", "device.dir.keys": "Keys", "device.dir.footage": "Footage", "device.dir.exports": "Export work", "device.dir.outbox": "Outbox", "device.dir.store": "Received packages",
		"device.keys": "Certificate and keys", "device.certificate": "Web certificate", "device.cert_until": "until %s (%d days left)", "device.cert_generated": "self-signed at first start",
		"device.key_file": "File", "device.fingerprint": "Fingerprint (compare aloud when pairing)", "device.mode": "Mode", "device.age": "Age",
		"device.unsafe": "readable by others", "device.days": "%d days",
		"device.records": "Records", "device.anchor": "Audit chain anchor", "device.backup": "Last backup",
	})
}
