#include "services/policy/policy_loader.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/text_format.h"
#include "services/authz/policy_validator.h"
#include "services/password/password_policy.h"

namespace iam::policy {
namespace {

namespace fs = std::filesystem;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;
using google::protobuf::io::ArrayInputStream;
using google::protobuf::io::ErrorCollector;
using google::protobuf::io::Tokenizer;
using iam::v1::PolicyDocument;

constexpr absl::string_view kUnmappedFile = "(merged policy)";
// Far above any real policy, and far below what the parser's int sizes hold.
constexpr size_t kMaxFileBytes = 64 << 20;

// A 0-based position in a file, as the tokenizer and the parser count.
struct Position {
  int line;
  int column;
};

bool operator<(const Position& a, const Position& b) {
  return a.line != b.line ? a.line < b.line : a.column < b.column;
}

// Forwards parser errors of one piece of a file as issues, moving the
// piece-relative line numbers back to the file's.
class IssueCollector final : public ErrorCollector {
 public:
  // REQUIRES: `tokens` are the whole file's, from Tokenize().
  IssueCollector(const std::string& file,
                 const std::vector<Tokenizer::Token>& tokens, int first_line,
                 std::vector<LintIssue>* issues)
      : file_(file), tokens_(tokens), first_line_(first_line), issues_(issues) {}

  void AddError(int line, int column, const std::string& message) override {
    Position at{first_line_ + std::max(line, 0), std::max(column, 0)};
    // The parser reports an unknown field at the token after its name; the
    // name is what needs fixing.
    if (message.find("has no field named") != std::string::npos) {
      auto next = std::lower_bound(
          tokens_.begin(), tokens_.end(), at,
          [](const Tokenizer::Token& t, const Position& p) {
            return Position{t.line, t.column} < p;
          });
      if (next != tokens_.begin()) {
        const Tokenizer::Token& name = *(next - 1);
        if (name.type == Tokenizer::TYPE_IDENTIFIER &&
            message.find(absl::StrCat("\"", name.text, "\"")) != std::string::npos) {
          at = Position{name.line, name.column};
        }
      }
    }
    issues_->push_back(LintIssue{file_, at.line + 1, at.column + 1, message});
    ++errors_;
  }
  // Warnings (deprecated fields) are not problems of the policy: dropped
  // rather than printed.
  void AddWarning(int, int, const std::string&) override {}

  int errors() const { return errors_; }

 private:
  const std::string& file_;
  const std::vector<Tokenizer::Token>& tokens_;
  const int first_line_;
  std::vector<LintIssue>* const issues_;
  int errors_ = 0;
};

// Swallows errors: used where the parser reports the same errors itself.
class NullCollector final : public ErrorCollector {
 public:
  void AddError(int, int, const std::string&) override {}
};

// The tokens of a whole file, with the text-format parser's tokenizer
// settings so that positions agree with the parser's.
std::vector<Tokenizer::Token> Tokenize(const std::string& text) {
  ArrayInputStream input(text.data(), static_cast<int>(text.size()));
  NullCollector errors;
  Tokenizer tokenizer(&input, &errors);
  tokenizer.set_allow_f_after_float(true);
  tokenizer.set_comment_style(Tokenizer::SH_COMMENT_STYLE);
  std::vector<Tokenizer::Token> tokens;
  while (tokenizer.Next()) tokens.push_back(tokenizer.current());
  return tokens;
}

bool IsSymbol(const Tokenizer::Token& token, absl::string_view symbols) {
  return token.type == Tokenizer::TYPE_SYMBOL && token.text.size() == 1 &&
         symbols.find(token.text[0]) != absl::string_view::npos;
}

// 0-based lines at which a new top-level field starts on a line of its own:
// the places where parsing can resume after a syntax error. Line 0 is
// always a start. Pieces split there parse exactly as the whole file does,
// because tokens never span lines (no multi-line strings, '#' comments).
std::vector<int> TopLevelStarts(const std::vector<Tokenizer::Token>& tokens) {
  std::vector<int> starts = {0};
  int depth = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const Tokenizer::Token& token = tokens[i];
    const bool first_on_line = i == 0 || tokens[i - 1].line != token.line;
    if (depth == 0 && first_on_line && token.type == Tokenizer::TYPE_IDENTIFIER &&
        !(i > 0 && IsSymbol(tokens[i - 1], ":")) && token.line > starts.back()) {
      starts.push_back(token.line);
    }
    if (IsSymbol(token, "{<[")) ++depth;
    if (IsSymbol(token, "}>]")) depth = std::max(depth - 1, 0);
  }
  return starts;
}

// Byte offset at which each 0-based line starts, plus one past the end.
std::vector<size_t> LineOffsets(const std::string& text) {
  std::vector<size_t> offsets = {0};
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') offsets.push_back(i + 1);
  }
  offsets.push_back(text.size());
  return offsets;
}

// Where each object of the merged document came from.
struct Origin {
  int file;                                 // index into the paths
  const TextFormat::ParseInfoTree* piece;   // locations of its piece
  int index;                                // index within the piece's field
  int first_line;                           // 0-based line the piece starts at
};

struct FileState {
  std::string path;
  std::vector<Tokenizer::Token> tokens;
  std::vector<std::unique_ptr<TextFormat::ParseInfoTree>> trees;
};

absl::Status ReadFile(const std::string& path, std::string* contents) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cannot open the file: ", std::strerror(errno)));
  }
  char buffer[1 << 14];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0) {
    contents->append(buffer, n);
  }
  const bool failed = std::ferror(f);
  const int error = errno;
  std::fclose(f);
  if (failed) {
    return absl::DataLossError(
        absl::StrCat("cannot read the file: ", std::strerror(error)));
  }
  return absl::OkStatus();
}

const FieldDescriptor* TopField(absl::string_view object_type) {
  const Descriptor* doc = PolicyDocument::descriptor();
  if (object_type == "permission") return doc->FindFieldByName("permissions");
  if (object_type == "role") return doc->FindFieldByName("roles");
  if (object_type == "scope") return doc->FindFieldByName("scopes");
  return nullptr;
}

// Maps the validator's issues onto the text the objects were parsed from.
class Locator {
 public:
  Locator(const std::vector<FileState>* files,
          std::vector<Origin> permissions, std::vector<Origin> roles,
          std::vector<Origin> scopes)
      : files_(files),
        permissions_(std::move(permissions)),
        roles_(std::move(roles)),
        scopes_(std::move(scopes)) {}

  // The file index and position of `issue`'s offending value, or nullopt
  // when the issue names no object of the merged document.
  absl::optional<std::pair<int, Position>> Locate(
      const iam::authz::PolicyIssue& issue) const {
    const FieldDescriptor* top = TopField(issue.object_type);
    const std::vector<Origin>* origins = OriginsOf(issue.object_type);
    if (top == nullptr || origins == nullptr || issue.index < 0 ||
        issue.index >= static_cast<int>(origins->size())) {
      return absl::nullopt;
    }
    const Origin& origin = (*origins)[issue.index];
    const std::vector<Tokenizer::Token>& tokens = (*files_)[origin.file].tokens;
    const Descriptor* type = top->message_type();
    absl::optional<Position> position;
    if (const TextFormat::ParseInfoTree* object =
            origin.piece->GetTreeForNested(top, origin.index)) {
      if (const FieldDescriptor* field = type->FindFieldByName(issue.field)) {
        position = ValuePosition(tokens, *object, field, issue.field_index,
                                 origin.first_line);
      }
      // Otherwise the object's identity: its name or path.
      for (const char* identity : {"name", "path"}) {
        const FieldDescriptor* field = type->FindFieldByName(identity);
        if (!position && field != nullptr) {
          position = ValuePosition(tokens, *object, field, -1, origin.first_line);
        }
      }
    }
    // Otherwise where the object starts.
    if (!position) {
      position = ValuePosition(tokens, *origin.piece, top, origin.index,
                               origin.first_line);
    }
    if (!position) position = Position{origin.first_line, 0};
    return std::make_pair(origin.file, *position);
  }

 private:
  const std::vector<Origin>* OriginsOf(absl::string_view object_type) const {
    if (object_type == "permission") return &permissions_;
    if (object_type == "role") return &roles_;
    if (object_type == "scope") return &scopes_;
    return nullptr;
  }

  // The position of value `index` of `field` (the only value when -1) in the
  // object whose locations `tree` holds. The tree records one location per
  // occurrence of the field name, and one occurrence may hold a list
  // ("permissions: [\"a\", \"b\"]"), so values are counted through the tokens.
  static absl::optional<Position> ValuePosition(
      const std::vector<Tokenizer::Token>& tokens,
      const TextFormat::ParseInfoTree& tree, const FieldDescriptor* field,
      int index, int first_line) {
    const bool is_message = field->type() == FieldDescriptor::TYPE_MESSAGE;
    if (!field->is_repeated()) {
      TextFormat::ParseLocation at = tree.GetLocation(field, -1);
      if (at.line < 0) return absl::nullopt;
      std::vector<Position> values =
          ValuesAt(tokens, Position{first_line + at.line, at.column}, is_message);
      if (values.empty()) return absl::nullopt;
      return values.front();
    }
    const size_t wanted = index < 0 ? 0 : static_cast<size_t>(index);
    size_t seen = 0;
    for (int occurrence = 0;; ++occurrence) {
      TextFormat::ParseLocation at = tree.GetLocation(field, occurrence);
      if (at.line < 0) return absl::nullopt;
      std::vector<Position> values =
          ValuesAt(tokens, Position{first_line + at.line, at.column}, is_message);
      if (wanted < seen + values.size()) return values[wanted - seen];
      seen += values.size();
    }
  }

  // The values written by the field occurrence whose name is at `name`: the
  // value after the name (the name itself for a message), or each element
  // of a "[...]" list.
  static std::vector<Position> ValuesAt(
      const std::vector<Tokenizer::Token>& tokens, Position name,
      bool is_message) {
    auto at = std::lower_bound(
        tokens.begin(), tokens.end(), name,
        [](const Tokenizer::Token& t, const Position& p) {
          return Position{t.line, t.column} < p;
        });
    if (at == tokens.end() || at->line != name.line || at->column != name.column) {
      return {name};  // cannot happen: the parser saw a token here
    }
    auto position = [](const Tokenizer::Token& t) {
      return Position{t.line, t.column};
    };
    size_t i = static_cast<size_t>(at - tokens.begin());
    size_t j = i + 1;
    if (j < tokens.size() && IsSymbol(tokens[j], ":")) ++j;
    if (j >= tokens.size() || !IsSymbol(tokens[j], "[")) {
      if (is_message || j >= tokens.size()) return {position(tokens[i])};
      return {position(tokens[j])};
    }
    std::vector<Position> values;
    ++j;
    while (j < tokens.size() && !IsSymbol(tokens[j], "]")) {
      values.push_back(position(tokens[j]));
      // Skip the element, nested brackets included, up to its ',' or ']'.
      int depth = 0;
      for (; j < tokens.size(); ++j) {
        if (IsSymbol(tokens[j], "{<[")) {
          ++depth;
        } else if (IsSymbol(tokens[j], "}>]")) {
          if (depth == 0) break;
          --depth;
        } else if (depth == 0 && IsSymbol(tokens[j], ",")) {
          break;
        }
      }
      if (j < tokens.size() && IsSymbol(tokens[j], ",")) ++j;
    }
    return values;
  }

  const std::vector<FileState>* files_;
  std::vector<Origin> permissions_;
  std::vector<Origin> roles_;
  std::vector<Origin> scopes_;
};

void AppendOrigins(int count, int file, const TextFormat::ParseInfoTree* tree,
                   int first_line, std::vector<Origin>* origins) {
  for (int i = 0; i < count; ++i) {
    origins->push_back(Origin{file, tree, i, first_line});
  }
}

// The message of a validation issue. The location already points at the
// value; the prefix says which object and entry it belongs to, except for
// names and paths, whose messages quote the value themselves.
std::string LintMessage(const iam::authz::PolicyIssue& issue) {
  if (issue.field == "name" || issue.field == "path" || issue.index < 0) {
    return issue.message;
  }
  std::string where = absl::StrCat(issue.object_type, " \"",
                                   absl::CHexEscape(issue.name), "\"");
  if (!issue.field.empty()) {
    absl::StrAppend(&where, " ", issue.field);
    if (issue.field_index >= 0) absl::StrAppend(&where, "[", issue.field_index, "]");
  }
  return absl::StrCat(where, ": ", issue.message);
}

// The password policy (services/password/password_policy.h): set by at most
// one file, and valid. Issues point at the offending field, or at the
// password_policy block when the field is left to its default.
void AppendPasswordPolicyIssues(const std::vector<Origin>& origins,
                                const PolicyDocument& merged,
                                const std::vector<std::string>& paths,
                                std::vector<std::pair<int, LintIssue>>* issues) {
  const FieldDescriptor* top =
      PolicyDocument::descriptor()->FindFieldByName("password_policy");
  auto where = [&](const Origin& o, const std::string& path, int index) {
    TextFormat::ParseLocation loc = o.piece->GetLocation(top, -1);
    Position at{o.first_line + std::max(loc.line, 0), std::max(loc.column, 0)};
    const TextFormat::ParseInfoTree* tree = o.piece->GetTreeForNested(top, -1);
    const Descriptor* type = top->message_type();
    for (absl::string_view part : absl::StrSplit(path, '.', absl::SkipEmpty())) {
      const FieldDescriptor* field =
          tree == nullptr ? nullptr : type->FindFieldByName(std::string(part));
      if (field == nullptr) break;
      loc = tree->GetLocation(field, field->is_repeated() ? std::max(index, 0) : -1);
      if (loc.line < 0) break;
      at = Position{o.first_line + loc.line, loc.column};
      if (field->type() != FieldDescriptor::TYPE_MESSAGE) break;
      tree = tree->GetTreeForNested(field, -1);
      type = field->message_type();
    }
    return at;
  };
  auto add = [&](const Origin& o, Position at, std::string message) {
    issues->emplace_back(o.file, LintIssue{paths[o.file], at.line + 1,
                                           at.column + 1, std::move(message)});
  };
  for (size_t i = 1; i < origins.size(); ++i) {
    add(origins[i], where(origins[i], "", -1),
        absl::StrCat("password_policy is set again (first in ",
                     paths[origins[0].file], "); keep it in one place"));
  }
  if (origins.empty()) return;
  for (const auto& issue : iam::password::ValidatePasswordPolicy(merged.password_policy())) {
    add(origins.back(), where(origins.back(), issue.field, issue.field_index),
        absl::StrCat("password_policy: ", issue.message));
  }
}

}  // namespace

LoadedPolicy LoadPolicyFiles(const std::vector<std::string>& paths) {
  LoadedPolicy result;
  std::vector<FileState> files(paths.size());
  // Issues tagged with the index of their file, for sorting.
  std::vector<std::pair<int, LintIssue>> issues;
  std::vector<Origin> permissions, roles, scopes;
  std::vector<Origin> password_policies;  // pieces that set password_policy
  bool complete = true;

  for (size_t f = 0; f < paths.size(); ++f) {
    FileState& file = files[f];
    file.path = paths[f];
    std::string text;
    absl::Status read = ReadFile(file.path, &text);
    if (read.ok() && text.size() > kMaxFileBytes) {
      read = absl::ResourceExhaustedError(absl::StrCat(
          "the file is ", text.size(), " bytes long; a policy file may have at most ",
          kMaxFileBytes, ": split it"));
    }
    if (!read.ok()) {
      issues.emplace_back(f, LintIssue{file.path, 0, 0, std::string(read.message())});
      complete = false;
      continue;
    }
    file.tokens = Tokenize(text);
    const std::vector<size_t> offsets = LineOffsets(text);
    std::vector<int> starts = TopLevelStarts(file.tokens);
    starts.push_back(static_cast<int>(offsets.size()) - 1);  // end of text
    for (size_t p = 0; p + 1 < starts.size(); ++p) {
      const int first_line = starts[p];
      const size_t begin = offsets[first_line];
      const size_t end = offsets[starts[p + 1]];
      ArrayInputStream input(text.data() + begin, static_cast<int>(end - begin));
      std::vector<LintIssue> errors;
      IssueCollector collector(file.path, file.tokens, first_line, &errors);
      auto tree = std::make_unique<TextFormat::ParseInfoTree>();
      TextFormat::Parser parser;
      parser.RecordErrorsTo(&collector);
      parser.WriteLocationsTo(tree.get());
      PolicyDocument piece;
      const bool parsed = parser.Parse(&input, &piece);
      if (!parsed || collector.errors() > 0) {
        complete = false;
        if (errors.empty()) {
          errors.push_back(LintIssue{file.path, first_line + 1, 1,
                                     "cannot parse this entry"});
        }
        for (LintIssue& error : errors) issues.emplace_back(f, std::move(error));
        continue;
      }
      AppendOrigins(piece.permissions_size(), f, tree.get(), first_line, &permissions);
      AppendOrigins(piece.roles_size(), f, tree.get(), first_line, &roles);
      AppendOrigins(piece.scopes_size(), f, tree.get(), first_line, &scopes);
      if (piece.has_password_policy()) {
        password_policies.push_back(Origin{static_cast<int>(f), tree.get(), 0, first_line});
      }
      result.merged.MergeFrom(piece);
      file.trees.push_back(std::move(tree));
    }
  }

  if (complete) {
    AppendPasswordPolicyIssues(password_policies, result.merged, paths, &issues);
    Locator locator(&files, std::move(permissions), std::move(roles),
                    std::move(scopes));
    for (const iam::authz::PolicyIssue& issue :
         iam::authz::ValidatePolicy(result.merged)) {
      std::string message = LintMessage(issue);
      if (auto located = locator.Locate(issue)) {
        const auto& [file, position] = *located;
        issues.emplace_back(file, LintIssue{paths[file], position.line + 1,
                                            position.column + 1, std::move(message)});
      } else {
        issues.emplace_back(static_cast<int>(paths.size()),
                            LintIssue{std::string(kUnmappedFile), 0, 0,
                                      std::move(message)});
      }
    }
  }

  std::stable_sort(issues.begin(), issues.end(),
                   [](const std::pair<int, LintIssue>& a,
                      const std::pair<int, LintIssue>& b) {
                     if (a.first != b.first) return a.first < b.first;
                     if (a.second.line != b.second.line) {
                       return a.second.line < b.second.line;
                     }
                     return a.second.column < b.second.column;
                   });
  result.issues.reserve(issues.size());
  for (auto& tagged : issues) result.issues.push_back(std::move(tagged.second));
  return result;
}

absl::StatusOr<std::vector<std::string>> PolicyFilesInDir(const std::string& dir) {
  std::error_code error;
  const fs::file_status status = fs::status(dir, error);
  if (status.type() == fs::file_type::not_found) {
    return absl::NotFoundError(
        absl::StrCat("policy directory \"", dir, "\" does not exist"));
  }
  if (error) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot access policy directory \"", dir, "\": ", error.message()));
  }
  if (!fs::is_directory(status)) {
    return absl::FailedPreconditionError(
        absl::StrCat("policy path \"", dir, "\" is not a directory"));
  }
  std::vector<std::string> paths;
  fs::directory_iterator it(dir, error);
  for (; !error && it != fs::directory_iterator(); it.increment(error)) {
    const fs::path& path = it->path();
    const std::string name = path.filename().string();
    std::error_code type_error;
    // Hidden files are editor backups and lock files, not policy.
    if (path.extension() == ".textproto" && name[0] != '.' &&
        fs::is_regular_file(it->status(type_error))) {
      paths.push_back(path.string());
    }
  }
  if (error) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot list policy directory \"", dir, "\": ", error.message()));
  }
  if (paths.empty()) {
    return absl::NotFoundError(
        absl::StrCat("policy directory \"", dir, "\" has no *.textproto files"));
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::string FormatIssue(const LintIssue& issue) {
  return absl::StrCat(issue.file, ":", issue.line, ":", issue.column, ": ",
                      issue.message);
}

absl::StatusOr<iam::v1::PolicyDocument> LoadPolicyOrError(
    const std::vector<std::string>& paths) {
  LoadedPolicy loaded = LoadPolicyFiles(paths);
  if (loaded.issues.empty()) return std::move(loaded.merged);
  std::vector<std::string> lines;
  lines.reserve(loaded.issues.size() + 1);
  lines.push_back(absl::StrCat("policy has ", loaded.issues.size(),
                               loaded.issues.size() == 1 ? " issue:" : " issues:"));
  for (const LintIssue& issue : loaded.issues) lines.push_back(FormatIssue(issue));
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

}  // namespace iam::policy
