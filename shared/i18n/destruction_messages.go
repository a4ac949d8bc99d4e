package i18n

// The outer's destruction receipts as the inner shows them: a copy's
// delivered package destroyed, the outer's signed receipt verified
// (docs/transfer.md, "Destruction receipts").
func init() {
	add("ko", map[string]string{
		"ledger.destroyed":      "%s 파기됨 (파기 확인서 검증됨)",
		"ledger.destroyed_note": "외부망 장비가 서명한 파기 확인서를 이 장비에 등록된 외부망 전송 키로 검증했습니다.",
	})
	add("en", map[string]string{
		"ledger.destroyed":      "destroyed at %s (verified receipt)",
		"ledger.destroyed_note": "The outer appliance's signed destruction receipt was verified against its pinned transfer key.",
	})
}
