-- PostgreSQL 15 and newer (loaded after corpus.sql): NULLS NOT DISTINCT
-- unique constraints and indexes.
ALTER TABLE "Mixed Case"."Orders" ADD UNIQUE NULLS NOT DISTINCT (code);
CREATE UNIQUE INDEX "customers email+born" ON public.customers (email, born) NULLS NOT DISTINCT;
COMMENT ON INDEX public."customers email+born" IS 'unique nets';
