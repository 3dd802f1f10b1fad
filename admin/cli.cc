#include "admin/cli.h"

#include <algorithm>
#include <iterator>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "admin/commands.h"
#include "admin/exit_codes.h"
#include "admin/options.h"
#include "admin/text.h"

namespace iam::admin {
namespace {

std::string UsageLine(const Command& command) {
  std::string line = absl::StrCat("iamctl ", CommandName(command));
  if (!command.usage.empty()) absl::StrAppend(&line, " ", command.usage);
  return line;
}

std::string CommandHelp(const Command& command) {
  std::string out = absl::StrCat("usage: ", UsageLine(command), "\n\n",
                                 command.summary, "\n");
  if (!command.description.empty())
    absl::StrAppend(&out, "\n", command.description, "\n");
  if (!command.flags.empty())
    absl::StrAppend(&out, "\nflags:\n", FlagHelp(command.flags));
  absl::StrAppend(&out, "\nglobal flags:\n", FlagHelp(GlobalFlagSpecs()),
                  "\nexit codes: see iamctl --help\n");
  return out;
}

// The commands whose path starts with `group`, e.g. every "person ...".
std::vector<const Command*> InGroup(const std::vector<Command>& commands,
                                    const std::string& group) {
  std::vector<const Command*> found;
  for (const Command& command : commands) {
    if (command.path.size() > 1 && command.path[0] == group)
      found.push_back(&command);
  }
  return found;
}

std::string CommandList(const std::vector<const Command*>& commands) {
  size_t width = 0;
  for (const Command* command : commands) {
    width = std::max(width, CommandName(*command).size());
  }
  std::string out;
  for (const Command* command : commands) {
    const std::string name = CommandName(*command);
    absl::StrAppend(&out, "  ", name, std::string(width - name.size() + 3, ' '),
                    command->summary, "\n");
  }
  return out;
}

std::string GroupHelp(const std::vector<Command>& commands,
                      const std::string& group) {
  std::string out =
      absl::StrCat("usage: iamctl ", group, " COMMAND [flags]\n\ncommands:\n",
                   CommandList(InGroup(commands, group)));
  absl::StrAppend(&out, "\nrun 'iamctl ", group,
                  " COMMAND --help' for a command's flags\n");
  return out;
}

// The command whose path is a prefix of args[start...], longest first.
const Command* FindCommand(const std::vector<Command>& commands,
                           const std::vector<std::string>& args, size_t start) {
  const Command* best = nullptr;
  for (const Command& command : commands) {
    if (start + command.path.size() > args.size()) continue;
    if (!std::equal(command.path.begin(), command.path.end(),
                    args.begin() + start))
      continue;
    if (best == nullptr || command.path.size() > best->path.size())
      best = &command;
  }
  return best;
}

int TopLevelUsageError(const CliEnvironment& env, absl::string_view message) {
  *env.err << "iamctl: " << SanitizeForTerminal(message) << "\n"
           << "run 'iamctl --help' for usage\n";
  return kExitUsage;
}

}  // namespace

std::vector<Command> AllCommands() {
  std::vector<Command> all;
  for (auto* area :
       {AuthzCommands, IdentityCommands, AuditCommands, PolicyCommands,
        PasswordCommands, HrCommands, BadgeCommands}) {
    std::vector<Command> commands = area();
    std::move(commands.begin(), commands.end(), std::back_inserter(all));
  }
  return all;
}

std::string MainHelp(const std::vector<Command>& commands) {
  std::vector<const Command*> all;
  for (const Command& command : commands) all.push_back(&command);
  return absl::StrCat(
      "iamctl: administer Factory IAM (people, roles, bindings, policy, "
      "audit)\n\n"
      "usage: iamctl [global flags] COMMAND [arguments] [flags]\n\n"
      "commands:\n",
      CommandList(all),
      "\nglobal flags (accepted before or after the command):\n",
      FlagHelp(GlobalFlagSpecs()),
      "\nconnection:\n"
      "  Insecure mode (default): a plain channel; the caller is sent as "
      "x-iam-caller\n"
      "  metadata, from --as or $IAM_CALLER (required).\n"
      "  TLS mode (--tls-ca, --tls-cert, --tls-key): the server takes the "
      "caller from\n"
      "  the client certificate's CN.\n"
      "\nenvironment:\n"
      "  IAM_SERVER   default for --server\n"
      "  IAM_CALLER   default for --as\n"
      "\nexit codes:\n",
      ExitCodeHelp(),
      "  Server errors print \"iamctl: CODE: message\" to stderr.\n"
      "\nrun 'iamctl COMMAND --help' for a command's arguments and flags\n");
}

int RunIamctl(const std::vector<std::string>& args, const CliEnvironment& env) {
  const std::vector<Command> commands = AllCommands();
  const std::vector<FlagSpec> global_flags = GlobalFlagSpecs();

  size_t start = 0;
  absl::StatusOr<ParsedArgs> leading = ParseArgs(global_flags, args, &start);
  if (!leading.ok()) return TopLevelUsageError(env, leading.status().message());
  if (start == args.size()) {
    if (leading->help()) {
      *env.out << MainHelp(commands);
      return kExitOk;
    }
    *env.err << MainHelp(commands);
    return kExitUsage;
  }

  // "iamctl help [COMMAND...]".
  if (args[start] == "help") {
    const std::vector<std::string> rest(args.begin() + start + 1, args.end());
    if (rest.empty()) {
      *env.out << MainHelp(commands);
      return kExitOk;
    }
    if (const Command* command = FindCommand(commands, rest, 0)) {
      *env.out << CommandHelp(*command);
      return kExitOk;
    }
    if (!InGroup(commands, rest[0]).empty()) {
      *env.out << GroupHelp(commands, rest[0]);
      return kExitOk;
    }
    return TopLevelUsageError(
        env, absl::StrCat("unknown command \"", rest[0], "\""));
  }

  const Command* command = FindCommand(commands, args, start);
  if (command == nullptr) {
    const std::string& word = args[start];
    if (!InGroup(commands, word).empty()) {
      // "iamctl person" or "iamctl person frobnicate".
      const bool has_sub = start + 1 < args.size() && args[start + 1][0] != '-';
      const bool wants_help =
          std::any_of(args.begin() + start, args.end(),
                      [](const auto& a) { return a == "--help" || a == "-h"; });
      if (wants_help && !has_sub) {
        *env.out << GroupHelp(commands, word);
        return kExitOk;
      }
      *env.err << "iamctl: "
               << (has_sub ? absl::StrCat("unknown command \"", word, " ",
                                          args[start + 1], "\"")
                           : absl::StrCat("\"", word, "\" needs a command"))
               << "\n\n"
               << GroupHelp(commands, word);
      return kExitUsage;
    }
    return TopLevelUsageError(env,
                              absl::StrCat("unknown command \"", word, "\""));
  }

  // The global flags before the command, then everything after its words.
  std::vector<std::string> rest(args.begin(), args.begin() + start);
  rest.insert(rest.end(), args.begin() + start + command->path.size(),
              args.end());
  std::vector<FlagSpec> flags = command->flags;
  flags.insert(flags.end(), global_flags.begin(), global_flags.end());

  const GlobalOptions no_options;  // Until resolved; only for usage errors.
  CommandContext usage_ctx(env, *command, *leading, no_options, nullptr);
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(flags, rest);
  if (!parsed.ok()) return usage_ctx.UsageError(parsed.status().message());
  if (parsed->help()) {
    *env.out << CommandHelp(*command);
    return kExitOk;
  }
  const int count = static_cast<int>(parsed->positional().size());
  if (count < command->min_positional ||
      (command->max_positional >= 0 && count > command->max_positional)) {
    return usage_ctx.UsageError(
        count < command->min_positional
            ? absl::StrCat("missing arguments; usage: ", UsageLine(*command))
            : absl::StrCat("unexpected argument \"",
                           parsed->positional()[count - 1],
                           "\"; usage: ", UsageLine(*command)));
  }

  absl::StatusOr<GlobalOptions> options =
      ResolveGlobalOptions(*parsed, env.env, command->needs_server);
  if (!options.ok()) return usage_ctx.UsageError(options.status().message());

  std::unique_ptr<ServerConnection> server;
  if (command->needs_server) {
    absl::StatusOr<std::unique_ptr<ServerConnection>> opened =
        ServerConnection::Open(*options);
    if (!opened.ok()) return usage_ctx.UsageError(opened.status().message());
    server = *std::move(opened);
  }
  CommandContext ctx(env, *command, *parsed, *options, server.get());
  return command->run(ctx);
}

}  // namespace iam::admin
