-- The outer's signed receipt for a delivered package (a transfer reply
-- with status Stored or Already, 111 bytes: transfer.ReplySize), kept as
-- the inner's proof of delivery; transfer.ParseReply verifies it against
-- the outer's transfer key.
ALTER TABLE outbox ADD COLUMN receipt bytea CHECK (length(receipt) = 111);
