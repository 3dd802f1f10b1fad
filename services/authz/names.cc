#include "services/authz/names.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace iam::authz {
namespace {

constexpr size_t kMaxQuotedLength = 100;

bool IsLowerDigitUnderscore(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool IsScopeSegmentChar(char c) { return IsLowerDigitUnderscore(c) || c == '-'; }

// The first character of `s` that `ok` rejects, or -1.
template <typename Pred>
int FirstBad(absl::string_view s, Pred ok) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (!ok(s[i])) return static_cast<int>(i);
  }
  return -1;
}

std::string QuoteChar(char c) {
  return absl::StrCat("'", absl::CHexEscape(absl::string_view(&c, 1)), "'");
}

constexpr absl::string_view kPermissionShape =
    "a valid permission name is <system>.<resource>:<action>, each part 1-64 "
    "characters of [a-z0-9_], at most 200 characters in all, e.g. "
    "\"mes.work_order:release\"";

absl::Status BadPermission(absl::string_view name, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(
      "permission name ", QuoteForMessage(name), " is invalid: ", what, "; ",
      kPermissionShape));
}

absl::Status CheckPermissionPart(absl::string_view name, absl::string_view part,
                                 absl::string_view label) {
  if (part.empty()) return BadPermission(name, absl::StrCat(label, " is empty"));
  if (part.size() > kMaxNamePartLength) {
    return BadPermission(name, absl::StrCat(label, " is ", part.size(),
                                            " characters long"));
  }
  int bad = FirstBad(part, IsLowerDigitUnderscore);
  if (bad >= 0) {
    return BadPermission(name, absl::StrCat(label, " contains ",
                                            QuoteChar(part[bad]),
                                            ", which is not in [a-z0-9_]"));
  }
  return absl::OkStatus();
}

constexpr absl::string_view kScopeShape =
    "a valid scope path is \"/\" (the root) or \"site/<id>\" followed by "
    "\"/<kind>/<id>\" pairs, every segment 1-64 characters of [a-z0-9_-], at "
    "most 8 segments, e.g. \"site/sz/line/3\"";

absl::Status BadScope(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(
      "scope path ", QuoteForMessage(path), " is invalid: ", what, "; ",
      kScopeShape));
}

}  // namespace

std::string QuoteForMessage(absl::string_view s) {
  if (s.size() <= kMaxQuotedLength) return absl::StrCat("\"", absl::CHexEscape(s), "\"");
  return absl::StrCat("\"", absl::CHexEscape(s.substr(0, kMaxQuotedLength)),
                      "...\"");
}

absl::Status ValidatePermissionName(absl::string_view name) {
  if (name.empty()) return BadPermission(name, "it is empty");
  if (name.size() > kMaxPermissionNameLength) {
    return BadPermission(name,
                         absl::StrCat("it is ", name.size(), " characters long"));
  }
  size_t colon = name.find(':');
  if (colon == absl::string_view::npos) {
    return BadPermission(name, "there is no ':' before the action");
  }
  absl::string_view left = name.substr(0, colon);
  absl::string_view action = name.substr(colon + 1);
  size_t dot = left.find('.');
  if (dot == absl::string_view::npos) {
    return BadPermission(name,
                         "there is no '.' between the system and the resource");
  }
  if (absl::Status s = CheckPermissionPart(name, left.substr(0, dot), "the system");
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          CheckPermissionPart(name, left.substr(dot + 1), "the resource");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckPermissionPart(name, action, "the action"); !s.ok()) {
    return s;
  }
  return absl::OkStatus();
}

absl::Status ValidateRoleName(absl::string_view name) {
  auto bad = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(
        "role name ", QuoteForMessage(name), " is invalid: ", what,
        "; a valid role name is 1-64 characters of [a-z0-9_.-] starting with "
        "a letter, e.g. \"burning_technician\""));
  };
  if (name.empty()) return bad("it is empty");
  if (name.size() > kMaxRoleNameLength) {
    return bad(absl::StrCat("it is ", name.size(), " characters long"));
  }
  if (name[0] < 'a' || name[0] > 'z') {
    return bad("it does not start with a lower-case letter");
  }
  int i = FirstBad(name, [](char c) {
    return IsLowerDigitUnderscore(c) || c == '.' || c == '-';
  });
  if (i >= 0) {
    return bad(absl::StrCat("it contains ", QuoteChar(name[i]),
                            ", which is not in [a-z0-9_.-]"));
  }
  return absl::OkStatus();
}

absl::Status ValidateScopePath(absl::string_view path) {
  if (path == kRootScope) return absl::OkStatus();
  if (path.empty()) return BadScope(path, "it is empty");
  int segments = 0;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    absl::string_view seg = path.substr(
        start, slash == absl::string_view::npos ? absl::string_view::npos
                                                : slash - start);
    ++segments;
    if (segments > kMaxScopeSegments) {
      return BadScope(path, "it has more than 8 segments");
    }
    if (seg.empty()) {
      return BadScope(path, absl::StrCat("segment ", segments,
                                         " is empty (a leading, trailing or "
                                         "doubled '/')"));
    }
    if (seg.size() > kMaxNamePartLength) {
      return BadScope(path, absl::StrCat("segment ", segments, " is ",
                                         seg.size(), " characters long"));
    }
    int bad = FirstBad(seg, IsScopeSegmentChar);
    if (bad >= 0) {
      return BadScope(path, absl::StrCat("segment ", segments, " contains ",
                                         QuoteChar(seg[bad]),
                                         ", which is not in [a-z0-9_-]"));
    }
    if (segments == 1 && seg != "site") {
      return BadScope(path, "it does not start with \"site/\"");
    }
    if (slash == absl::string_view::npos) break;
    start = slash + 1;
  }
  if (segments % 2 != 0) {
    return BadScope(path, "the last <kind> has no <id> after it");
  }
  return absl::OkStatus();
}

absl::string_view ParentScope(absl::string_view path) {
  if (path == kRootScope || path.empty()) return absl::string_view();
  size_t last = path.rfind('/');
  if (last == absl::string_view::npos) return kRootScope;
  size_t kind = path.rfind('/', last - 1);
  if (kind == absl::string_view::npos || kind == 0) return kRootScope;
  return path.substr(0, kind);
}

bool ScopeCovers(absl::string_view ancestor, absl::string_view path) {
  if (ancestor == kRootScope) return true;
  if (path.size() < ancestor.size() ||
      path.substr(0, ancestor.size()) != ancestor) {
    return false;
  }
  // Valid paths have an even number of segments, so a prefix that ends at a
  // segment boundary is an ancestor.
  return path.size() == ancestor.size() || path[ancestor.size()] == '/';
}

}  // namespace iam::authz
