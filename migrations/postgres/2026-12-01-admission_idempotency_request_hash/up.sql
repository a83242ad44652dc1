-- The hash of the request that first used a message's Idempotency-Key: a later request with the
-- same key and another body is refused (422 `idempotency_key_reused`) instead of answered with
-- the first message. NULL for messages queued without a key (and for those queued before).
ALTER TABLE messages ADD COLUMN idempotency_hash TEXT;
