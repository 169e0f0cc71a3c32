// Hand-written messages shared by the MIME tests.
#pragma once

#include <string_view>

namespace rm::mime::testdata {

inline constexpr std::string_view kSimple =
    "From: \"Joe Q. Public\" <john.q.public@example.com>\r\n"
    "To: Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>\r\n"
    "Cc: <boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>\r\n"
    "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
    "Message-ID: <5678.21-Nov-1997@example.com>\r\n"
    "Subject: Hello\r\n"
    "\r\n"
    "Hi there.\r\n"
    "Bye.\r\n";

inline constexpr std::string_view kAlternative =
    "From: a@b.test\r\n"
    "Subject: alt\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=\"XX\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--XX\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "plain\r\n"
    "--XX\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "<p>html=3D</p>\r\n"
    "--XX--\r\n"
    "epilogue\r\n";

inline constexpr std::string_view kMixed =
    "From: a@b.test\r\n"
    "Content-Type: multipart/mixed; boundary=b1\r\n"
    "\r\n"
    "--b1\r\n"
    "\r\n"
    "text body\r\n"
    "--b1\r\n"
    "Content-Type: application/pdf; name=\"r.pdf\"\r\n"
    "Content-Disposition: attachment;\r\n"
    " filename*0*=utf-8''%E2%82%AC;\r\n"
    " filename*1=\"uro.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-ID: <id1@x>\r\n"
    "Content-Description: A report\r\n"
    "Content-Language: en, fr\r\n"
    "Content-Location: http://x.test/r.pdf\r\n"
    "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
    "\r\n"
    "aGVsbG8=\r\n"
    "--b1--\r\n";

inline constexpr std::string_view kNested =
    "From: outer@x.test\r\n"
    "Subject: fwd\r\n"
    "Content-Type: multipart/mixed; boundary=\"o\"\r\n"
    "\r\n"
    "--o\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "see attached\r\n"
    "--o\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "From: inner@y.test\r\n"
    "Subject: inner\r\n"
    "\r\n"
    "inner body\r\n"
    "--o--\r\n";

// LF-only line ends and no close delimiter.
inline constexpr std::string_view kBrokenLf =
    "Content-Type: multipart/mixed; boundary=zz\n"
    "\n"
    "--zz\n"
    "Content-Type: text/plain\n"
    "\n"
    "first\n"
    "--zz\n"
    "\n"
    "second\n"
    "line\n";

}  // namespace rm::mime::testdata
