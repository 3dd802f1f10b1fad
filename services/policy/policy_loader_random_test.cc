// Randomized robustness test of the policy loader: the sample policy, mutated
// thousands of times with a fixed seed (byte flips, deleted, duplicated and
// swapped lines, names replaced by other or random names, stray syntax), must
// never crash the loader, and every answer must be consistent:
//   - every issue names one of the files, at a line and column inside it;
//   - the loader reports a syntax error in a file exactly when protobuf's own
//     parser rejects the file as a whole, so its error recovery never invents
//     or hides a syntax error;
//   - without syntax errors, the merged document is exactly the files parsed
//     whole and concatenated, and its issues are exactly ValidatePolicy's;
//   - in particular, a policy that loads without issues passes ValidatePolicy.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/iam/v1/policy.pb.h"
#include "services/authz/policy_validator.h"
#include "services/password/password_policy.h"
#include "services/policy/policy_loader.h"

namespace iam::policy {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kSeed = 0x5eed'0f'fac7'0123;
constexpr int kIterations = 3000;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Writes a new file: truncating an existing one makes ext4 flush it on close
// (auto_da_alloc), which would make this test wait on the disk.
void WriteAll(const std::string& path, const std::string& text) {
  fs::remove(path);
  std::ofstream out(path, std::ios::binary);
  out << text;
}

class CountingCollector final : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int, int, const std::string&) override { ++errors; }
  int errors = 0;
};

// Protobuf's parser over the whole text: the reference the loader's
// piecewise parsing must agree with.
bool ParseWhole(const std::string& text, iam::v1::PolicyDocument* doc) {
  google::protobuf::TextFormat::Parser parser;
  CountingCollector errors;
  parser.RecordErrorsTo(&errors);
  return parser.ParseFromString(text, doc) && errors.errors == 0;
}

class Mutator {
 public:
  Mutator(uint64_t seed, std::vector<std::string> names)
      : rng_(seed), names_(std::move(names)) {}

  // Applies 1-4 random mutations to `text`.
  void Mutate(std::string* text) {
    const int count = Uniform(1, 4);
    for (int i = 0; i < count; ++i) MutateOnce(text);
  }

  int Uniform(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }

 private:
  void MutateOnce(std::string* text) {
    switch (Uniform(0, 9)) {
      case 0:
      case 1:
        FlipByte(text);
        break;
      case 2:
        EditLines(text, [&](std::vector<std::string>& lines) {
          lines.erase(lines.begin() + Uniform(0, lines.size() - 1));
        });
        break;
      case 3:
        EditLines(text, [&](std::vector<std::string>& lines) {
          // Duplicates a run of lines: often a whole entry.
          const int from = Uniform(0, lines.size() - 1);
          const int to = std::min<int>(lines.size(), from + Uniform(1, 5));
          std::vector<std::string> run(lines.begin() + from, lines.begin() + to);
          lines.insert(lines.begin() + Uniform(0, lines.size()), run.begin(), run.end());
        });
        break;
      case 4:
        EditLines(text, [&](std::vector<std::string>& lines) {
          std::swap(lines[Uniform(0, lines.size() - 1)],
                    lines[Uniform(0, lines.size() - 1)]);
        });
        break;
      case 5:
      case 6:
      case 7:
        ReplaceString(text);
        break;
      case 8: {
        static const char* const kFragments[] = {
            "{", "}", "[", "]", "<", ">", ":", ",", ";", "\"", "#", "\n",
            "roles {", "permissions {", "scopes { path: \"site/xx\" }",
            "inherits: ", "permissions: [", "name: ", "\\", "\t", "-1",
            "roles { name: \"line_lead\" inherits: \"line_lead\" }"};
        const size_t at = Uniform(0, text->size());
        text->insert(at, kFragments[Uniform(0, std::size(kFragments) - 1)]);
        break;
      }
      case 9: {
        if (text->empty()) break;
        const size_t at = Uniform(0, text->size() - 1);
        text->erase(at, Uniform(1, 40));
        break;
      }
    }
  }

  void FlipByte(std::string* text) {
    if (text->empty()) return;
    static constexpr absl::string_view kInteresting = "{}[]<>:;,\"'#\\\n\t ._/-aZ09";
    char& c = (*text)[Uniform(0, text->size() - 1)];
    switch (Uniform(0, 2)) {
      case 0:
        c = kInteresting[Uniform(0, kInteresting.size() - 1)];
        break;
      case 1:
        c = static_cast<char>(Uniform(0, 255));
        break;
      case 2:
        c ^= static_cast<char>(1 << Uniform(0, 7));
        break;
    }
  }

  // Replaces the contents of a random quoted string with another name of the
  // policy (a duplicate or a dangling reference) or a random one.
  void ReplaceString(std::string* text) {
    std::vector<size_t> quotes;
    for (size_t i = 0; i < text->size(); ++i) {
      if ((*text)[i] == '"') quotes.push_back(i);
    }
    if (quotes.size() < 2) return;
    const size_t q = Uniform(0, quotes.size() / 2 - 1) * 2;
    const size_t begin = quotes[q] + 1;
    const size_t end = quotes[q + 1];
    text->replace(begin, end - begin, RandomName());
  }

  std::string RandomName() {
    if (Uniform(0, 2) != 0) return names_[Uniform(0, names_.size() - 1)];
    static constexpr absl::string_view kChars =
        "abcdefghijklmnopqrstuvwxyz0123456789_.:/-A \\";
    std::string name;
    const int length = Uniform(0, 24);
    for (int i = 0; i < length; ++i) name += kChars[Uniform(0, kChars.size() - 1)];
    return name;
  }

  template <typename Edit>
  void EditLines(std::string* text, Edit edit) {
    std::vector<std::string> lines = absl::StrSplit(*text, '\n');
    if (lines.empty()) return;
    edit(lines);
    *text = absl::StrJoin(lines, "\n");
  }

  std::mt19937_64 rng_;
  std::vector<std::string> names_;
};

std::vector<std::string> NamesOf(const iam::v1::PolicyDocument& doc) {
  std::vector<std::string> names;
  for (const auto& p : doc.permissions()) names.push_back(p.name());
  for (const auto& r : doc.roles()) names.push_back(r.name());
  for (const auto& s : doc.scopes()) names.push_back(s.path());
  return names;
}

// The character at a 1-based line and column as protobuf counts them (a tab
// advances to the next multiple of 8), or '\0' past the end of the line.
char CharAt(const std::string& text, int line, int column) {
  size_t i = 0;
  for (int l = 1; l < line; ++l) {
    i = text.find('\n', i);
    if (i == std::string::npos) return '\0';
    ++i;
  }
  for (int c = 0; i < text.size() && text[i] != '\n'; ++i) {
    if (c == column - 1) return text[i];
    c = text[i] == '\t' ? c + 8 - c % 8 : c + 1;
    if (c > column - 1) return '\0';
  }
  return '\0';
}

int LineCount(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
}

TEST(PolicyLoaderRandomTest, MutatedSamplePolicyNeverCrashesAndStaysConsistent) {
  absl::StatusOr<std::vector<std::string>> sample_paths = PolicyFilesInDir("policy");
  ASSERT_TRUE(sample_paths.ok()) << sample_paths.status();
  std::vector<std::string> sample;
  for (const std::string& path : *sample_paths) sample.push_back(ReadAll(path));
  absl::StatusOr<iam::v1::PolicyDocument> clean = LoadPolicyOrError(*sample_paths);
  ASSERT_TRUE(clean.ok()) << clean.status();

  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/random");
  fs::create_directories(dir);

  Mutator mutator(kSeed, NamesOf(*clean));
  int loaded_clean = 0, syntax_errors = 0, validation_only = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int iteration = 0; iteration < kIterations; ++iteration) {
    // Usually the three sample files; sometimes one of them twice (a copy
    // left behind), sometimes in another order.
    std::vector<std::string> texts = sample;
    if (mutator.Uniform(0, 9) == 0) texts.push_back(texts[mutator.Uniform(0, 2)]);
    if (mutator.Uniform(0, 9) == 0) std::swap(texts[0], texts[texts.size() - 1]);
    const int mutated_files = mutator.Uniform(1, 2);
    for (int m = 0; m < mutated_files; ++m) {
      mutator.Mutate(&texts[mutator.Uniform(0, texts.size() - 1)]);
    }
    std::vector<std::string> paths;
    for (size_t f = 0; f < texts.size(); ++f) {
      paths.push_back(absl::StrCat(dir, "/", f, ".textproto"));
      WriteAll(paths.back(), texts[f]);
    }

    LoadedPolicy loaded = LoadPolicyFiles(paths);

    std::string context = absl::StrCat("iteration ", iteration);
    for (size_t f = 0; f < texts.size(); ++f) {
      absl::StrAppend(&context, "\n--- ", paths[f], " ---\n", texts[f]);
    }
    std::vector<int> issues_per_file(paths.size(), 0);
    for (const LintIssue& issue : loaded.issues) {
      auto it = std::find(paths.begin(), paths.end(), issue.file);
      ASSERT_NE(it, paths.end()) << FormatIssue(issue) << "\n" << context;
      const size_t f = it - paths.begin();
      ++issues_per_file[f];
      EXPECT_GE(issue.line, 1) << FormatIssue(issue) << "\n" << context;
      EXPECT_LE(issue.line, LineCount(texts[f])) << FormatIssue(issue) << "\n" << context;
      EXPECT_GE(issue.column, 1) << FormatIssue(issue) << "\n" << context;
      EXPECT_FALSE(issue.message.empty()) << context;
    }

    iam::v1::PolicyDocument whole;
    bool all_parse = true;
    for (size_t f = 0; f < texts.size(); ++f) {
      iam::v1::PolicyDocument doc;
      if (ParseWhole(texts[f], &doc)) {
        whole.MergeFrom(doc);
      } else {
        all_parse = false;
        EXPECT_GT(issues_per_file[f], 0)
            << "protobuf rejects " << paths[f] << " but the loader did not\n"
            << context;
      }
    }
    if (!all_parse) {
      ++syntax_errors;
    } else {
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(loaded.merged, whole))
          << context;
      const std::vector<iam::authz::PolicyIssue> expected =
          iam::authz::ValidatePolicy(loaded.merged);
      // Plus the password policy's: set in one file only, and valid.
      int password_files = 0;
      for (const std::string& text : texts) {
        iam::v1::PolicyDocument doc;
        if (ParseWhole(text, &doc) && doc.has_password_policy()) ++password_files;
      }
      const size_t password_issues =
          password_files == 0
              ? 0
              : password_files - 1 +
                    iam::password::ValidatePasswordPolicy(
                        loaded.merged.password_policy())
                        .size();
      EXPECT_EQ(loaded.issues.size(), expected.size() + password_issues) << context;
      // Each points at a value (a string) or at a field name.
      for (const LintIssue& issue : loaded.issues) {
        const size_t f = std::find(paths.begin(), paths.end(), issue.file) - paths.begin();
        const char c = CharAt(texts[f], issue.line, issue.column);
        EXPECT_TRUE(c == '"' || c == '\'' || (c >= 'a' && c <= 'z'))
            << FormatIssue(issue) << " points at '" << c << "'\n" << context;
      }
      if (loaded.issues.empty()) {
        ++loaded_clean;
      } else {
        ++validation_only;
      }
    }
    if (loaded.issues.empty()) {
      EXPECT_TRUE(iam::authz::ValidatePolicy(loaded.merged).empty()) << context;
    }
    if (HasFailure()) break;
  }
  const double seconds = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - start).count();
  std::cout << kIterations << " mutated policies in " << seconds << " s: "
            << syntax_errors << " with syntax errors, " << validation_only
            << " with only validation issues, " << loaded_clean << " clean\n";
  // The mutations must reach every outcome, or the test proves little.
  EXPECT_GT(syntax_errors, kIterations / 10);
  EXPECT_GT(validation_only, kIterations / 20);
  EXPECT_GT(loaded_clean, kIterations / 100);
}

}  // namespace
}  // namespace iam::policy
