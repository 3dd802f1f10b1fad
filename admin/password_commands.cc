// password set / unlock / revoke / status / check, password policy show /
// apply: the PasswordService from the command line. Passwords are read from
// a prompt without echo (or from stdin when it is not a terminal), never
// from the command line, and wiped after use.
#include <termios.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "admin/commands.h"
#include "admin/exit_codes.h"
#include "admin/table.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/text_format.h"
#include "proto/iam/v1/password.grpc.pb.h"
#include "services/password/secret.h"
#include "services/policy/policy_loader.h"

namespace iam::admin {
namespace {

using iam::v1::PasswordService;
using password::WipeString;

std::unique_ptr<PasswordService::Stub> Stub(CommandContext& ctx) {
  return PasswordService::NewStub(ctx.server().channel());
}

// Reads one line: from a prompt with echo off on a terminal, or from stdin
// as it comes otherwise. The caller wipes the result.
absl::StatusOr<std::string> ReadSecret(CommandContext& ctx, absl::string_view prompt) {
  termios saved;
  const bool tty = ctx.stdin_is_tty() && tcgetattr(STDIN_FILENO, &saved) == 0;
  if (tty) {
    ctx.err() << prompt << std::flush;
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  const bool got = static_cast<bool>(std::getline(ctx.in(), line));
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    ctx.err() << "\n";
  }
  if (!got) {
    return absl::InvalidArgumentError(
        "no password given: type it at the prompt, or pipe it on stdin");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::string When(int64_t unix_seconds) {
  if (unix_seconds == 0) return "never";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

int RunPasswordSet(CommandContext& ctx) {
  absl::StatusOr<std::string> first = ReadSecret(ctx, "New password: ");
  if (!first.ok()) return ctx.UsageError(first.status().message());
  if (ctx.stdin_is_tty()) {
    absl::StatusOr<std::string> again = ReadSecret(ctx, "Repeat it: ");
    const bool same = again.ok() && *again == *first;
    if (again.ok()) WipeString(&*again);
    if (!same) {
      WipeString(&*first);
      return ctx.UsageError("the two passwords differ; nothing was changed");
    }
  }
  iam::v1::SetInitialPasswordRequest request;
  request.set_person_id(ctx.arg(0));
  request.set_password(*first);
  WipeString(&*first);
  request.set_reason(ctx.args().Value("reason").value_or(""));
  iam::v1::SetInitialPasswordResponse response;
  auto stub = Stub(ctx);
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return stub->SetInitialPassword(c, request, &response);
  });
  WipeString(request.mutable_password());
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    ctx.PrintJson(response);
  } else {
    ctx.out() << "password set for " << ctx.arg(0)
              << "; they must change it at their next login (revision "
              << response.revision() << ")\n";
  }
  return kExitOk;
}

int RunPasswordUnlock(CommandContext& ctx) {
  iam::v1::UnlockRequest request;
  request.set_person_id(ctx.arg(0));
  request.set_reason(ctx.args().Value("reason").value_or(""));
  iam::v1::UnlockResponse response;
  auto stub = Stub(ctx);
  const grpc::Status status = ctx.Call(
      [&](grpc::ClientContext* c) { return stub->Unlock(c, request, &response); });
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    ctx.PrintJson(response);
  } else {
    ctx.out() << ctx.arg(0)
              << (response.was_locked() ? " unlocked" : " was not locked out; failed "
                                                        "attempts cleared")
              << "\n";
  }
  return kExitOk;
}

int RunPasswordRevoke(CommandContext& ctx) {
  iam::v1::RevokeCredentialsRequest request;
  request.set_person_id(ctx.arg(0));
  request.set_reason(ctx.args().Value("reason").value_or(""));
  iam::v1::RevokeCredentialsResponse response;
  auto stub = Stub(ctx);
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return stub->RevokeCredentials(c, request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    ctx.PrintJson(response);
  } else {
    ctx.out() << (response.revoked() ? "password revoked for "
                                     : "no password to revoke for ")
              << ctx.arg(0) << "\n";
  }
  return kExitOk;
}

int RunPasswordStatus(CommandContext& ctx) {
  iam::v1::GetPasswordStatusRequest request;
  request.set_person_id(ctx.arg(0));
  iam::v1::GetPasswordStatusResponse response;
  auto stub = Stub(ctx);
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return stub->GetPasswordStatus(c, request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    ctx.PrintJson(response);
    return kExitOk;
  }
  ctx.out() << "has password:    " << (response.has_password() ? "yes" : "no") << "\n"
            << "must change:     " << (response.must_change() ? "yes" : "no") << "\n"
            << "changed:         " << When(response.changed_at_unix()) << "\n"
            << "last login:      " << When(response.last_login_unix()) << "\n"
            << "failed attempts: " << response.failed_attempts() << "\n"
            << "locked until:    "
            << (response.locked_until_unix() == 0 ? "not locked"
                                                  : When(response.locked_until_unix()))
            << "\n";
  return kExitOk;
}

int RunPasswordCheck(CommandContext& ctx) {
  absl::StatusOr<std::string> candidate = ReadSecret(ctx, "Password to check: ");
  if (!candidate.ok()) return ctx.UsageError(candidate.status().message());
  iam::v1::CheckPasswordRequest request;
  request.set_person_id(ctx.args().Value("person").value_or(""));
  request.set_password(*candidate);
  WipeString(&*candidate);
  iam::v1::CheckPasswordResponse response;
  auto stub = Stub(ctx);
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return stub->CheckPassword(c, request, &response);
  });
  WipeString(request.mutable_password());
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    ctx.PrintJson(response);
  } else {
    ctx.out() << (response.acceptable() ? "acceptable" : "rejected") << "\n"
              << "length:   " << response.length() << " characters\n"
              << "strength: " << response.strength() << " (about "
              << static_cast<int>(response.strength_bits()) << " bits)\n";
    for (const std::string& problem : response.problems()) {
      ctx.out() << "  - " << problem << "\n";
    }
    if (response.acceptable()) {
      ctx.out() << "(history is checked only when the password is set)\n";
    }
  }
  return response.acceptable() ? kExitOk : kExitInvalid;
}

// One line per field of `effective`, saying whether the policy sets it.
void PrintPolicy(CommandContext& ctx, const iam::v1::PasswordPolicy& configured,
                 const iam::v1::PasswordPolicy& effective, bool defaults_only) {
  Table table({"FIELD", "VALUE", "FROM"});
  const auto* reflection = effective.GetReflection();
  const auto* descriptor = effective.GetDescriptor();
  auto add = [&](const google::protobuf::Message& eff,
                 const google::protobuf::Message& conf, const std::string& prefix) {
    const auto* d = eff.GetDescriptor();
    for (int i = 0; i < d->field_count(); ++i) {
      const auto* f = d->field(i);
      if (f->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE) continue;
      std::string value;
      if (f->is_repeated()) {
        std::vector<std::string> items;
        for (int k = 0; k < eff.GetReflection()->FieldSize(eff, f); ++k) {
          items.push_back(absl::StrCat(
              "\"", eff.GetReflection()->GetRepeatedString(eff, f, k), "\""));
        }
        value = items.empty() ? "(none)" : absl::StrJoin(items, ", ");
      } else {
        google::protobuf::TextFormat::PrintFieldValueToString(eff, f, -1, &value);
      }
      const bool set = f->is_repeated()
                           ? conf.GetReflection()->FieldSize(conf, f) > 0
                           : conf.GetReflection()->HasField(conf, f);
      table.AddRow({prefix + f->name(), value, set ? "policy" : "default"});
    }
  };
  add(effective, configured, "");
  const auto* argon2 = descriptor->FindFieldByName("argon2");
  add(reflection->GetMessage(effective, argon2),
      configured.GetReflection()->GetMessage(configured, argon2), "argon2.");
  ctx.Print(table);
  if (defaults_only) {
    ctx.out() << "(no policy stored: the built-in defaults are in force)\n";
  }
}

int RunPasswordPolicyShow(CommandContext& ctx) {
  iam::v1::GetPasswordPolicyResponse response;
  auto stub = Stub(ctx);
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return stub->GetPasswordPolicy(c, iam::v1::GetPasswordPolicyRequest(), &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    ctx.PrintJson(response);
  } else {
    PrintPolicy(ctx, response.configured(), response.effective(),
                response.defaults_only());
  }
  return kExitOk;
}

int RunPasswordPolicyApply(CommandContext& ctx) {
  absl::StatusOr<std::vector<std::string>> files = policy::PolicyFilesInDir(ctx.arg(0));
  if (!files.ok()) return ctx.LocalError(files.status());
  absl::StatusOr<iam::v1::PolicyDocument> doc = policy::LoadPolicyOrError(*files);
  if (!doc.ok()) return ctx.LocalError(doc.status());
  iam::v1::SetPasswordPolicyRequest request;
  *request.mutable_policy() = doc->password_policy();
  request.set_reason(ctx.args().Value("reason").value_or(""));
  iam::v1::SetPasswordPolicyResponse response;
  auto stub = Stub(ctx);
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return stub->SetPasswordPolicy(c, request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    ctx.PrintJson(response);
  } else {
    ctx.out() << "password policy applied from " << ctx.arg(0) << " at revision "
              << response.revision() << "\n";
  }
  return kExitOk;
}

const FlagSpec kReasonFlag = {"reason", FlagKind::kValue, "TEXT",
                              "why (ticket or free text); recorded in the audit log"};

}  // namespace

std::vector<Command> PasswordCommands() {
  std::vector<Command> commands;
  commands.push_back(
      {{"password", "set"},
       "PERSON [--reason TEXT]",
       "set a person's initial password (they must change it at next login)",
       "Asks for the password twice without echo; when stdin is not a terminal,\n"
       "reads one line from it. Never give a password on the command line.",
       {kReasonFlag},
       1,
       1,
       true,
       RunPasswordSet});
  commands.push_back({{"password", "unlock"},
                      "PERSON [--reason TEXT]",
                      "end a lockout and clear failed login attempts",
                      "",
                      {kReasonFlag},
                      1,
                      1,
                      true,
                      RunPasswordUnlock});
  commands.push_back({{"password", "revoke"},
                      "PERSON [--reason TEXT]",
                      "delete a person's password, history and lockout state",
                      "Idempotent: revoking a person without a password succeeds.",
                      {kReasonFlag},
                      1,
                      1,
                      true,
                      RunPasswordRevoke});
  commands.push_back({{"password", "status"},
                      "PERSON",
                      "whether a person has a password, is locked out, must change it",
                      "",
                      {},
                      1,
                      1,
                      true,
                      RunPasswordStatus});
  commands.push_back(
      {{"password", "check"},
       "[--person PERSON]",
       "strength and policy verdict for a candidate password",
       "Reads the candidate from a prompt without echo (or stdin), never from\n"
       "the command line. With --person, also checks their name and id.\n"
       "Exit code 0 when acceptable, 3 when the policy rejects it.",
       {{"person", FlagKind::kValue, "PERSON",
         "the person the password would be for"}},
       0,
       0,
       true,
       RunPasswordCheck});
  commands.push_back({{"password", "policy", "show"},
                      "",
                      "the password policy in force, field by field",
                      "FROM says whether the stored policy sets a field or it "
                      "takes its default.",
                      {},
                      0,
                      0,
                      true,
                      RunPasswordPolicyShow});
  commands.push_back(
      {{"password", "policy", "apply"},
       "DIR [--reason TEXT]",
       "store the password_policy of the policy files in DIR",
       "Lints the files first; a policy without password_policy restores the\n"
       "defaults.",
       {kReasonFlag},
       1,
       1,
       true,
       RunPasswordPolicyApply});
  return commands;
}

}  // namespace iam::admin
