/* A real /build response body (dockerd 20.10.24, embedded BuildKit 0.8,
 * version=2) for a Dockerfile whose RUN fails: captured with curl on a
 * private daemon, one JSON message per line as sent, each ending in CRLF. */
#ifndef CTXD_TEST_FIXTURE_BK_FAIL_H
#define CTXD_TEST_FIXTURE_BK_FAIL_H

static const char fixture_bk_fail[] =
	"{\"id\":\"moby.buildkit.trace\",\"aux\":\"Cm8KR3NoYTI1Njo2Zjk2MGIxOGY1YzJmOTBiMmM2ZGJkOTIxODYwMzlmN2E5ZDQ0ZWQ4NTAwYTVmOWRjMmVhYTBkOGQ1ODNmMmE0GiRbaW50ZXJuYWxdIGxvYWQgcmVtb3RlIGJ1aWxkIGNvbnRleHQ=\"}\r\n"
	"{\"id\":\"moby.buildkit.trace\",\"aux\":\"Cn0KR3NoYTI1Njo2Zjk2MGIxOGY1YzJmOTBiMmM2ZGJkOTIxODYwMzlmN2E5ZDQ0ZWQ4NTAwYTVmOWRjMmVhYTBkOGQ1ODNmMmE0GiRbaW50ZXJuYWxdIGxvYWQgcmVtb3RlIGJ1aWxkIGNvbnRleHQqDAjeqJrYBhCQvMz3Ag==\"}\r\n"
	"{\"id\":\"moby.buildkit.trace\",\"aux\":\"CosBCkdzaGEyNTY6NmY5NjBiMThmNWMyZjkwYjJjNmRiZDkyMTg2MDM5ZjdhOWQ0NGVkODUwMGE1ZjlkYzJlYWEwZDhkNTgzZjJhNBokW2ludGVybmFsXSBsb2FkIHJlbW90ZSBidWlsZCBjb250ZXh0KgwI3qia2AYQkLzM9wIyDAjeqJrYBhC1hZX8Ag==\"}\r\n"
	"{\"id\":\"moby.buildkit.trace\",\"aux\":\"CosBCkdzaGEyNTY6NmY5NjBiMThmNWMyZjkwYjJjNmRiZDkyMTg2MDM5ZjdhOWQ0NGVkODUwMGE1ZjlkYzJlYWEwZDhkNTgzZjJhNBokW2ludGVybmFsXSBsb2FkIHJlbW90ZSBidWlsZCBjb250ZXh0KgwI3qia2AYQr5Op/AIyDAjeqJrYBhDy2an8Ag==\"}\r\n"
	"{\"id\":\"moby.buildkit.trace\",\"aux\":\"CqMBCkdzaGEyNTY6ZTY0MzY5ZjJmYmQ5ZWJkMGRmMzU4NmI5NDE4ZDdhYTUzYzc2NzhiN2M0NWRkNjkzMmY2ZTI0ZjE5MDU1MmIwNRJHc2hhMjU2OjZmOTYwYjE4ZjVjMmY5MGIyYzZkYmQ5MjE4NjAzOWY3YTlkNDRlZDg1MDBhNWY5ZGMyZWFhMGQ4ZDU4M2YyYTQaD2NvcHkgL2NvbnRleHQgLw==\"}\r\n"
	"{\"id\":\"moby.buildkit.trace\",\"aux\":\"CrEBCkdzaGEyNTY6ZTY0MzY5ZjJmYmQ5ZWJkMGRmMzU4NmI5NDE4ZDdhYTUzYzc2NzhiN2M0NWRkNjkzMmY2ZTI0ZjE5MDU1MmIwNRJHc2hhMjU2OjZmOTYwYjE4ZjVjMmY5MGIyYzZkYmQ5MjE4NjAzOWY3YTlkNDRlZDg1MDBhNWY5ZGMyZWFhMGQ4ZDU4M2YyYTQaD2NvcHkgL2NvbnRleHQgLyoMCN6omtgGENuD9v4C\"}\r\n"
	"{\"id\":\"moby.buildkit.trace\",\"aux\":\"Cr8BCkdzaGEyNTY6ZTY0MzY5ZjJmYmQ5ZWJkMGRmMzU4NmI5NDE4ZDdhYTUzYzc2NzhiN2M0NWRkNjkzMmY2ZTI0ZjE5MDU1MmIwNRJHc2hhMjU2OjZmOTYwYjE4ZjVjMmY5MGIyYzZkYmQ5MjE4NjAzOWY3YTlkNDRlZDg1MDBhNWY5ZGMyZWFhMGQ4ZDU4M2YyYTQaD2NvcHkgL2NvbnRleHQgLyoMCN6omtgGENuD9v4CMgwI3qia2AYQuaWruAM=\"}\r\n"
	"{\"id\":\"moby.buildkit.trace\",\"aux\":\"CpYBCkdzaGEyNTY6ZGE4NTMzODJhNzUzNWUwNjhmZWFlNGQ4MGJkZDBhZDI1NjdkZjNkNWNkNDg0ZmQ2OGY5MTkyOTRkMDkxYjA1Mxo9W2ludGVybmFsXSBsb2FkIG1ldGFkYXRhIGZvciBkb2NrZXIuaW8vbGlicmFyeS9idXN5Ym94OmxhdGVzdCoMCN6omtgGEJXoxbwD\"}\r\n"
	"{\"id\":\"moby.buildkit.trace\",\"aux\":\"CqQBCkdzaGEyNTY6ZGE4NTMzODJhNzUzNWUwNjhmZWFlNGQ4MGJkZDBhZDI1NjdkZjNkNWNkNDg0ZmQ2OGY5MTkyOTRkMDkxYjA1Mxo9W2ludGVybmFsXSBsb2FkIG1ldGFkYXRhIGZvciBkb2NrZXIuaW8vbGlicmFyeS9idXN5Ym94OmxhdGVzdCoMCN6omtgGEJXoxbwDMgwI3qia2AYQv/PivAM=\"}\r\n"
	"{\"id\":\"moby.buildkit.trace\",\"aux\":\"Cm8KR3NoYTI1NjowOGEwM2YzZmZlNWZiYTQyMWE2NDAzYzMxZTE1MzQyNWNlZDYzMWQxMDg4NjhmMzBlMDQ5ODVmOTlkNjkzMjZlGiRbMS8yXSBGUk9NIGRvY2tlci5pby9saWJyYXJ5L2J1c3lib3gKxQEKR3NoYTI1Njo0MDAxOTZlYWFhYzZlYTNhYTkzODY4MGNjNGUxZGEwZmU0NzBhNjU0MWFiM2IxOTA3ODhjMjJiOTBlYWY2YzE3EkdzaGEyNTY6MDhhMDNmM2ZmZTVmYmE0MjFhNjQwM2MzMWUxNTM0MjVjZWQ2MzFkMTA4ODY4ZjMwZTA0OTg1Zjk5ZDY5MzI2ZRoxWzIvMl0gUlVOIGVjaG8gYWJvdXQgdG8gZmFpbDsgZWNobyBiYWQgPiYyOyBmYWxzZQ==\"}\r\n"
	"{\"id\":\"moby.buildkit.trace\",\"aux\":\"Co0BCkdzaGEyNTY6MDhhMDNmM2ZmZTVmYmE0MjFhNjQwM2MzMWUxNTM0MjVjZWQ2MzFkMTA4ODY4ZjMwZTA0OTg1Zjk5ZDY5MzI2ZRokWzEvMl0gRlJPTSBkb2NrZXIuaW8vbGlicmFyeS9idXN5Ym94IAEqDAjeqJrYBhD+2qy9AzIMCN6omtgGEOTnrr0D\"}\r\n"
	"{\"id\":\"moby.buildkit.trace\",\"aux\":\"CtMBCkdzaGEyNTY6NDAwMTk2ZWFhYWM2ZWEzYWE5Mzg2ODBjYzRlMWRhMGZlNDcwYTY1NDFhYjNiMTkwNzg4YzIyYjkwZWFmNmMxNxJHc2hhMjU2OjA4YTAzZjNmZmU1ZmJhNDIxYTY0MDNjMzFlMTUzNDI1Y2VkNjMxZDEwODg2OGYzMGUwNDk4NWY5OWQ2OTMyNmUaMVsyLzJdIFJVTiBlY2hvIGFib3V0IHRvIGZhaWw7IGVjaG8gYmFkID4mMjsgZmFsc2UqDAjeqJrYBhCZmpu+Aw==\"}\r\n"
	"{\"id\":\"moby.buildkit.trace\",\"aux\":\"Gl4KR3NoYTI1Njo0MDAxOTZlYWFhYzZlYTNhYTkzODY4MGNjNGUxZGEwZmU0NzBhNjU0MWFiM2IxOTA3ODhjMjJiOTBlYWY2YzE3EgsI36ia2AYQi7qCDBgCIgRiYWQK\"}\r\n"
	"{\"id\":\"moby.buildkit.trace\",\"aux\":\"GmgKR3NoYTI1Njo0MDAxOTZlYWFhYzZlYTNhYTkzODY4MGNjNGUxZGEwZmU0NzBhNjU0MWFiM2IxOTA3ODhjMjJiOTBlYWY2YzE3EgsI36ia2AYQ09qQDBgBIg5hYm91dCB0byBmYWlsCg==\"}\r\n"
	"{\"id\":\"moby.buildkit.trace\",\"aux\":\"CrwCCkdzaGEyNTY6NDAwMTk2ZWFhYWM2ZWEzYWE5Mzg2ODBjYzRlMWRhMGZlNDcwYTY1NDFhYjNiMTkwNzg4YzIyYjkwZWFmNmMxNxJHc2hhMjU2OjA4YTAzZjNmZmU1ZmJhNDIxYTY0MDNjMzFlMTUzNDI1Y2VkNjMxZDEwODg2OGYzMGUwNDk4NWY5OWQ2OTMyNmUaMVsyLzJdIFJVTiBlY2hvIGFib3V0IHRvIGZhaWw7IGVjaG8gYmFkID4mMjsgZmFsc2UqDAjeqJrYBhCZmpu+AzILCN+omtgGELTc4A86WmV4ZWN1dG9yIGZhaWxlZCBydW5uaW5nIFsvYmluL3NoIC1jIGVjaG8gYWJvdXQgdG8gZmFpbDsgZWNobyBiYWQgPiYyOyBmYWxzZV06IGV4aXQgY29kZTogMQ==\"}\r\n"
	"{\"errorDetail\":{\"message\":\"executor failed running [/bin/sh -c echo about to fail; echo bad \\u003e\\u00262; false]: exit code: 1\"},\"error\":\"executor failed running [/bin/sh -c echo about to fail; echo bad \\u003e\\u00262; false]: exit code: 1\"}\r\n";

#endif
