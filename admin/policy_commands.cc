// policy lint (local: reads and checks policy files with
// //services/policy:policy_loader, no server) and policy apply (lint, then a
// dry-run ApplyPolicy to show the diff, confirmation, then the real one).
#include <sys/stat.h>

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "admin/commands.h"
#include "admin/exit_codes.h"
#include "admin/render.h"
#include "admin/requests.h"
#include "admin/text.h"
#include "proto/iam/v1/authz.grpc.pb.h"
#include "services/policy/policy_loader.h"

namespace iam::admin {
namespace {

bool IsDirectory(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

// Files named on the command line, with directories replaced by their
// *.textproto files. A missing plain file is kept: the loader reports it as
// an issue at its path.
absl::StatusOr<std::vector<std::string>> ExpandPolicyPaths(
    const std::vector<std::string>& args) {
  std::vector<std::string> files;
  for (const std::string& arg : args) {
    if (!IsDirectory(arg)) {
      files.push_back(arg);
      continue;
    }
    absl::StatusOr<std::vector<std::string>> in_dir =
        iam::policy::PolicyFilesInDir(arg);
    if (!in_dir.ok()) return in_dir.status();
    files.insert(files.end(), in_dir->begin(), in_dir->end());
  }
  return files;
}

std::string IssuesJson(const std::vector<iam::policy::LintIssue>& issues) {
  std::string out = "[";
  for (size_t i = 0; i < issues.size(); ++i) {
    const iam::policy::LintIssue& issue = issues[i];
    absl::StrAppend(&out, i == 0 ? "" : ",",
                    "{\"file\":", JsonQuote(issue.file),
                    ",\"line\":", issue.line, ",\"column\":", issue.column,
                    ",\"message\":", JsonQuote(issue.message), "}");
  }
  return out + "]";
}

std::string CountsText(const iam::v1::PolicyDocument& policy) {
  return absl::StrCat(policy.permissions_size(), " permissions, ",
                      policy.roles_size(), " roles, ", policy.scopes_size(),
                      " scopes");
}

int RunPolicyLint(CommandContext& ctx) {
  absl::StatusOr<std::vector<std::string>> files =
      ExpandPolicyPaths(ctx.args().positional());
  if (!files.ok()) return ctx.LocalError(files.status());
  const iam::policy::LoadedPolicy loaded = iam::policy::LoadPolicyFiles(*files);
  const iam::v1::PolicyDocument& policy = loaded.merged;
  if (ctx.json()) {
    ctx.out() << "{\"ok\":" << (loaded.issues.empty() ? "true" : "false")
              << ",\"files\":" << files->size()
              << ",\"permissions\":" << policy.permissions_size()
              << ",\"roles\":" << policy.roles_size()
              << ",\"scopes\":" << policy.scopes_size()
              << ",\"issues\":" << IssuesJson(loaded.issues) << "}\n";
  } else {
    for (const iam::policy::LintIssue& issue : loaded.issues) {
      ctx.out() << SanitizeForTerminal(iam::policy::FormatIssue(issue)) << "\n";
    }
    if (loaded.issues.empty())
      ctx.out() << "ok: " << CountsText(policy) << "\n";
  }
  if (!loaded.issues.empty()) {
    if (!ctx.json())
      ctx.err() << "iamctl: " << loaded.issues.size() << " lint issue(s)\n";
    return kExitInvalid;
  }
  return kExitOk;
}

bool SameChanges(const Repeated<iam::v1::PolicyChange>& a,
                 const Repeated<iam::v1::PolicyChange>& b) {
  if (a.size() != b.size()) return false;
  for (int i = 0; i < a.size(); ++i) {
    if (a[i].SerializeAsString() != b[i].SerializeAsString()) return false;
  }
  return true;
}

// Asks on the terminal; true only for "y" or "yes".
bool Confirm(CommandContext& ctx, int changes) {
  ctx.err() << "apply " << changes << (changes == 1 ? " change" : " changes")
            << "? [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(ctx.in(), answer)) return false;
  answer = absl::AsciiStrToLower(absl::StripAsciiWhitespace(answer));
  return answer == "y" || answer == "yes";
}

int RunPolicyApply(CommandContext& ctx) {
  const bool dry_run = ctx.args().Has("dry-run");
  const bool yes = ctx.args().Has("yes");
  std::string reason = ctx.args().Value("reason").value_or("");
  if (!dry_run) {
    absl::StatusOr<std::string> required = RequiredReason(ctx.args());
    if (!required.ok()) return ctx.UsageError(required.status().message());
  }
  if (dry_run && yes)
    return ctx.UsageError("give --dry-run or --yes, not both");

  absl::StatusOr<std::vector<std::string>> files =
      ExpandPolicyPaths(ctx.args().positional());
  if (!files.ok()) return ctx.LocalError(files.status());
  iam::policy::LoadedPolicy loaded = iam::policy::LoadPolicyFiles(*files);
  if (!loaded.issues.empty()) {
    for (const iam::policy::LintIssue& issue : loaded.issues) {
      ctx.err() << SanitizeForTerminal(iam::policy::FormatIssue(issue)) << "\n";
    }
    ctx.err() << "iamctl: " << loaded.issues.size()
              << " lint issue(s); nothing applied\n";
    return kExitInvalid;
  }

  iam::v1::ApplyPolicyRequest request;
  *request.mutable_policy() = std::move(loaded.merged);
  request.set_reason(reason);
  request.set_dry_run(true);
  iam::v1::ApplyPolicyResponse preview;
  grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return ctx.server().authz().ApplyPolicy(c, request, &preview);
  });
  if (!status.ok()) return ctx.RpcError(status);

  const int changes = preview.changes_size();
  // In JSON mode stdout carries exactly one document; the diff a person must
  // see before answering goes to stderr.
  const bool prompting = !dry_run && !yes && changes > 0;
  if (!ctx.json()) {
    ctx.out() << RenderPolicyDiff(preview.changes());
  } else if (prompting && ctx.stdin_is_tty()) {
    ctx.err() << RenderPolicyDiff(preview.changes());
  }
  if (dry_run || changes == 0) {
    if (ctx.json()) ctx.PrintJson(preview);
    return kExitOk;
  }
  if (prompting) {
    if (!ctx.stdin_is_tty()) {
      return ctx.UsageError(
          absl::StrCat("stdin is not a terminal, so there is no one to "
                       "confirm; pass --yes to apply ",
                       changes, changes == 1 ? " change" : " changes"));
    }
    if (!Confirm(ctx, changes)) {
      ctx.err() << "not applied\n";
      return kExitOk;
    }
  }

  request.set_dry_run(false);
  iam::v1::ApplyPolicyResponse applied;
  status = ctx.Call([&](grpc::ClientContext* c) {
    return ctx.server().authz().ApplyPolicy(c, request, &applied);
  });
  if (!status.ok()) return ctx.RpcError(status);
  if (!SameChanges(preview.changes(), applied.changes())) {
    // ApplyPolicy has no expected-revision precondition, so a concurrent
    // write between preview and apply shows up only here.
    ctx.err()
        << "iamctl: warning: the server's policy changed after the preview; "
           "the changes applied were:\n"
        << RenderPolicyDiff(applied.changes());
  }
  if (ctx.json()) {
    ctx.PrintJson(applied);
  } else {
    ctx.out() << "applied " << applied.changes_size()
              << (applied.changes_size() == 1 ? " change" : " changes")
              << " at revision " << applied.revision() << "\n";
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> PolicyCommands() {
  std::vector<Command> commands;
  commands.push_back(
      {{"policy", "lint"},
       "FILE|DIR...",
       "check policy files locally (no server)",
       "Reads the textproto policy files (a directory means its *.textproto "
       "files),\n"
       "prints every issue as file:line:column: message and exits 3 if there "
       "are\n"
       "any; otherwise prints \"ok: N permissions, M roles, K scopes\".",
       {},
       1,
       -1,
       false,
       RunPolicyLint});
  commands.push_back(
      {{"policy", "apply"},
       "FILE|DIR... --reason TEXT [--yes] [--dry-run]",
       "replace the server's policy with these files, after a diff",
       "Lints the files (and stops on any issue), asks the server for the diff "
       "and\n"
       "prints it (+ add, - remove, ~ change), then asks \"apply N changes? "
       "[y/N]\"\n"
       "on the terminal. --yes skips the question; without --yes, a stdin that "
       "is\n"
       "not a terminal is refused. --dry-run stops after the diff. What the "
       "files\n"
       "do not declare is removed from the server.",
       {{"reason", FlagKind::kValue, "TEXT",
         "why (ticket or free text); required unless --dry-run, recorded in "
         "the audit log"},
        {"yes", FlagKind::kSwitch, "", "apply without asking"},
        {"dry-run", FlagKind::kSwitch, "", "print the diff only"}},
       1,
       -1,
       true,
       RunPolicyApply});
  return commands;
}

}  // namespace iam::admin
