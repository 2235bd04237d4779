// Package copybin converts PostgreSQL COPY text rows into COPY binary rows
// on the client, so that a restore spends no server time in the types'
// text input functions.
//
// # Strictness
//
// A backup tool must never load a value different from what a text COPY
// would have loaded, so the converter accepts only the exact text that the
// output functions of PostgreSQL 13 to 18 write in pgark's dump sessions
// (DateStyle ISO, IntervalStyle postgres, extra_float_digits 3,
// bytea_output hex, any TimeZone, client_encoding the database encoding),
// and only for the built-in types that Supported names. Anything else (an
// other spelling, a value out of range, an escape COPY TO never writes such
// as a backslash before a tab) is an error: the caller then loads that block
// as text, which is always safe.
//
// # Binary forms
//
// Each value is written as the type's send function would write it, so the
// server's receive function yields the value its input function would have
// yielded: integers and floats big-endian, text-like types (text, varchar,
// bpchar, name, json) as their bytes, jsonb as version 1 then the text,
// bytea as the raw bytes, uuid as 16 bytes, date as int32 days and
// timestamp and timestamptz as int64 microseconds since 2000-01-01 (UTC for
// timestamptz), numeric as base-10000 digits with weight, sign and display
// scale, inet and cidr as family, bits, is_cidr, length and address. The
// ranges are PostgreSQL's: dates from 4714-11-24 BC to 5874897-12-31,
// timestamps from 4714-11-24 00:00:00 BC (UTC) up to, not including,
// 294277-01-01 00:00:00 (UTC), infinities for both. Numeric infinities
// (PostgreSQL 14 and later) are refused so that the output loads on 13 too.
//
// # Back to text
//
// A Decoder does the reverse: binary rows of the same types to the COPY
// text that COPY TO writes in those sessions, with TimeZone UTC. It is
// checked byte for byte against the server on 13 to 18 (TestLiveDecode),
// and against the Converter by fuzzing.
//
// # Concurrency
//
// A Converter keeps a scratch buffer between calls: use one per goroutine.
package copybin
