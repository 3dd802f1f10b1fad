// Text helpers for iamctl's terminal output: making server-provided strings
// safe to print, measuring how wide they are on a terminal, and quoting JSON.
//
// Every string iamctl prints comes from the server or the user (names,
// reasons, audit records), so a control character in it could corrupt a
// table or, worse, send escape sequences to the admin's terminal.
// SanitizeForTerminal() makes such strings inert. Pure functions; thread-safe.
#ifndef IAM_ADMIN_TEXT_H_
#define IAM_ADMIN_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace iam::admin {

// Returns `text` with C0/C1 control characters, DEL and invalid UTF-8 bytes
// escaped ("\n", "\t", "\x1b", ...), so that it prints on one line and
// cannot drive the terminal. Valid printable UTF-8 passes unchanged.
std::string SanitizeForTerminal(absl::string_view text);

// Columns `text` occupies on a terminal: East Asian wide characters count
// two, combining marks zero, everything else one.
// REQUIRES: text is sanitized (no control characters).
size_t DisplayWidth(absl::string_view text);

// `text` as a JSON string literal, quotes included.
std::string JsonQuote(absl::string_view text);

}  // namespace iam::admin

#endif  // IAM_ADMIN_TEXT_H_
