package i18n

// The browser player and its license (outer/portal package_play, the
// license endpoint's refusals; docs/portal.md, "Player and license").
func init() {
	add("ko", map[string]string{
		"player.title": "영상 재생", "player.export": "반출 코드", "player.until": "열람 기한",
		"player.loading": "재생 허가를 받는 중…", "player.play_of": "재생 %d / %d회", "player.press_play": "재생 단추를 누르십시오.",
		"player.failed":      "영상을 재생하지 못했습니다. 잠시 뒤 다시 시도하십시오.",
		"player.unsupported": "이 브라우저는 이 영상을 재생할 수 없습니다(Media Source Extensions, H.264 필요). 최신 Chrome이나 Edge를 쓰십시오.",
		"player.not_found":   "없는 영상입니다.", "player.gone": "열람 기간이 끝났거나 회수되어 파기된 영상입니다.",
		"player.play_limit": "이 영상의 재생 허용 횟수를 모두 썼습니다. 더 보려면 관제센터에 문의하십시오.",
		"player.bad_key":    "재생 요청이 올바르지 않습니다. 페이지를 새로 고치십시오.",
		"player.no_license": "재생 허가 없이 영상 데이터를 받을 수 없습니다.",
		"player.concealed":  "화면을 떠나 재생을 멈췄습니다. 다시 보려면 재생 단추를 누르십시오.",
		"player.note":       "영상은 이 브라우저 안에서만 복호화되며 재생할 때마다 감사 기록에 남습니다. 화면의 표시와 영상 속 워터마크로 유출 경로를 추적할 수 있습니다.",
	})
	add("en", map[string]string{
		"player.title": "Play footage", "player.export": "Export code", "player.until": "Viewable until",
		"player.loading": "Obtaining the license…", "player.play_of": "Play %d of %d", "player.press_play": "Press play.",
		"player.failed":      "The footage could not be played. Try again in a moment.",
		"player.unsupported": "This browser cannot play this footage (it needs Media Source Extensions and H.264). Use a current Chrome or Edge.",
		"player.not_found":   "No such footage.", "player.gone": "This footage was destroyed: its viewing period ended or it was revoked.",
		"player.play_limit": "You have used every play this footage allows. Ask the control center for more.",
		"player.bad_key":    "The play request was malformed. Reload the page.",
		"player.no_license": "The footage's data is served only with a license to play it.",
		"player.concealed":  "Playback paused because you left the page. Press play to watch again.",
		"player.note":       "The footage is decrypted only inside this browser, and every play is recorded in the audit log. The marks on screen and the watermark in the picture trace a leak.",
	})
}
