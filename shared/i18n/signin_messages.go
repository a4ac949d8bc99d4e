package i18n

// Sign-in hardening: the current code asked for when TOTP is set up again,
// and the lockout reached from a page of a signed-in user.
func init() {
	add("ko", map[string]string{
		"totp.current":     "현재 인증 앱의 6자리 코드 또는 복구 코드",
		"totp.current_why": "2단계 인증이 이미 등록되어 있습니다. 다시 등록하려면 지금 쓰는 코드를 먼저 입력하십시오.",
		"totp.bad_current": "현재 코드가 올바르지 않거나 이미 사용되었습니다.",
		"signin.locked":    "반복된 실패로 계정이 15분 동안 잠겼습니다. 관리자에게 잠금 해제를 요청할 수 있습니다.",
	})
	add("en", map[string]string{
		"totp.current":     "Current 6-digit code from your app, or a recovery code",
		"totp.current_why": "Two-step verification is already set up. To set it up again, first enter a code from the current one.",
		"totp.bad_current": "The current code is wrong or was already used.",
		"signin.locked":    "The account is locked for 15 minutes after repeated failures. An administrator can unlock it sooner.",
	})
}
