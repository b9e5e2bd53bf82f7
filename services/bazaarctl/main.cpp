// bazaarctl: the operators' tool. It reads topics and consumer groups, and writes only what
// an operator asks for (redrives, replays, group resets); it never reads a service's database.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "commands.hpp"
#include "events/uuid.hpp"

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) {
  g_stop.store(true);
}

constexpr const char* kFooter =
    R"(Exit codes: 0 done; 1 problems found (audit, whatif); 2 bad input (a malformed
time or offset, an unknown topic or group); 3 the broker did not answer in time;
4 refused as unsafe now (a consumer group with live members).

Examples:
  bazaarctl tail order.events --since 15m --type OrderPlaced
  bazaarctl tail all --from-beginning --correlation 0190f5c2-7a1b-7c3d-8e4f-123456789abc
  bazaarctl dlq list
  bazaarctl dlq show order 2:17
  bazaarctl dlq redrive order --reason rejected --dry-run
  bazaarctl replay --topic order.events --since 1h --until 30m --to order.events.copy
  bazaarctl saga show 0190f5c2-7a1b-7c3d-8e4f-123456789abc
  bazaarctl lag
  bazaarctl projection rebuild edge-catalog
  bazaarctl audit)";

// An order id is a UUID, read in its canonical lower-case form.
const CLI::Validator kOrderId(
    [](std::string& text) {
      const auto id = bazaar::events::Uuid::parse(text);
      if (!id) return "'" + text + "' is not an order id (a UUID)";
      text = id->str();
      return std::string{};
    },
    "UUID");
const CLI::Validator kNonEmpty(
    [](const std::string& text) { return text.empty() ? std::string("is empty") : std::string{}; },
    "NAME");

}  // namespace

int main(int argc, char** argv) {
  using namespace bazaar::ctl;
  // Standard output holds only what a command prints (tables, JSON lines, CSV): the client
  // library's warnings, through spdlog, go to standard error.
  spdlog::set_default_logger(spdlog::stderr_color_st("bazaarctl"));
  CLI::App app{"bazaarctl: tail, replay, redrive and inspect bazaar's Kafka topics"};
  app.footer(kFooter);
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand: `dlq list -o json`
  std::string brokers;
  int timeout_ms = 10'000;
  std::string output = "table";
  app.add_option("--brokers", brokers, "Kafka bootstrap servers")
      ->envname("BAZAAR_KAFKA_BROKERS")
      ->required();
  app.add_option("--timeout-ms", timeout_ms, "How long to wait for the broker before giving up")
      ->envname("BAZAARCTL_TIMEOUT_MS")
      ->check(CLI::Range(100, 600'000));
  int replication = 1;
  app.add_option("--replication-factor", replication, "Replication of the topics it creates")
      ->envname("BAZAAR_REPLICATION_FACTOR")
      ->check(CLI::Range(1, 10));
  app.add_option("--output,-o", output, "table (for people) or json (one object a line)")
      ->check(CLI::IsMember({"table", "json"}));

  // tail
  TailArgs tail_args;
  std::string type, correlation, subject;
  auto* tail_cmd =
      app.add_subcommand("tail", "Print a topic's CloudEvents (or every topic's: all)");
  tail_cmd->footer(R"(Examples:
  bazaarctl tail order.events --from-beginning
  bazaarctl tail all --since 15m --correlation <order-id>
  bazaarctl tail payment.events --follow --type PaymentDeclined -o json)");
  tail_cmd
      ->add_option("topic", tail_args.topic,
                   "A topic, or all (every topic but identity.otp, whose one-time codes are "
                   "read only by name)")
      ->required();
  tail_cmd->add_option("--type", type, "Only this ce_type (or its name: OrderPlaced)");
  tail_cmd->add_option("--correlation", correlation, "Only this correlation id (an order id)");
  tail_cmd->add_option("--subject", subject, "Only this subject or record key");
  auto* from_beginning =
      tail_cmd->add_flag("--from-beginning", tail_args.from_beginning, "Start at the first record");
  std::string since;
  tail_cmd->add_option("--since", since, "Start at a time: 15m, 2h, 7d or 2026-11-30T08:00:00Z")
      ->excludes(from_beginning);
  tail_cmd->add_flag("--follow,-f", tail_args.follow, "Keep printing new records (Ctrl-C stops)");

  // export
  ExportArgs export_args;
  std::string export_type, export_since, export_until, export_out;
  auto* export_cmd =
      app.add_subcommand("export", "Write a slice of a topic to JSON Lines or CSV, for analysts");
  export_cmd->footer(
      R"(Columns of CSV: topic, partition, offset, timestamp, key, then the CloudEvents
attributes id, type, source, subject, time, correlation_id, causation_id, then data (the
payload as JSON text). JSON Lines: one object per record, as tail -o json prints it.
Examples:
  bazaarctl export order.events --since 1d --format csv --out orders.csv
  bazaarctl export payment.events --since 2026-11-30T00:00:00Z --until 2026-12-01T00:00:00Z)");
  export_cmd
      ->add_option("topic", export_args.topic,
                   "A topic, or all (every topic but identity.otp, whose one-time codes are "
                   "read only by name)")
      ->required();
  export_cmd->add_option("--since", export_since,
                         "From this time on, by the records' timestamp (default: the beginning)");
  export_cmd->add_option("--until", export_until, "Up to this time, by the records' timestamp");
  export_cmd->add_option("--type", export_type, "Only this ce_type (or its name)");
  export_cmd->add_option("--format", export_args.format, "jsonl or csv")
      ->check(CLI::IsMember({"jsonl", "csv"}));
  export_cmd->add_option("--out", export_out, "A file to write (default: standard output)");

  // dlq
  auto* dlq = app.add_subcommand("dlq", "Dead letters: list their failure groups, show, redrive");
  dlq->require_subcommand(1);
  DlqArgs dlq_args;
  std::string group, reason, dlq_type, dlq_since;
  auto* dlq_list_cmd =
      dlq->add_subcommand("list", "Failure groups: group, reason and error, with counts");
  dlq_list_cmd->add_option("--group", group, "Only this consumer group");
  auto* dlq_show_cmd = dlq->add_subcommand("show", "Dead letters of a group, whole");
  dlq_show_cmd->footer("Example: bazaarctl dlq show order 3:12   (or a bare offset, or --reason)");
  dlq_show_cmd->add_option("group", group, "The consumer group")->required();
  dlq_show_cmd->add_option("offsets", dlq_args.offsets, "P:O or O of dead letters");
  dlq_show_cmd->add_option("--reason", reason,
                           "undecodable, schema_violation, rejected, handler_error, parked "
                           "(behind an earlier dead letter of its key) or invalid_value");
  auto* dlq_redrive_cmd = dlq->add_subcommand(
      "redrive", "Put dead letters back on their original topics, in their original order");
  dlq_redrive_cmd->footer(
      R"(Each redrive is recorded on dlq.<group>.redriven, so a dead letter is not sent twice
by accident (--force sends it again; the consumers' inbox makes a repeat harmless).
Examples:
  bazaarctl dlq redrive order --reason handler_error --dry-run
  bazaarctl dlq redrive order 2:17 2:18
  bazaarctl dlq redrive edge-orders --type PaymentCharged --since 1h)");
  dlq_redrive_cmd->add_option("group", group, "The consumer group")->required();
  dlq_redrive_cmd->add_option("offsets", dlq_args.offsets, "P:O or O of dead letters");
  dlq_redrive_cmd->add_option("--reason", reason, "Those dead-lettered for this reason");
  dlq_redrive_cmd->add_option("--type", dlq_type, "Those of this ce_type");
  dlq_redrive_cmd->add_option("--since", dlq_since,
                              "Those dead-lettered since: 15m, 2026-11-30T08:00:00Z");
  dlq_redrive_cmd->add_flag("--dry-run", dlq_args.dry_run, "Show what would be redriven");
  dlq_redrive_cmd->add_flag("--force", dlq_args.force, "Also what was redriven before");

  // replay
  ReplayArgs replay_args;
  std::string from_offset, replay_since, until, replay_type;
  auto* replay_cmd = app.add_subcommand("replay", "Copy a slice of a topic to a topic");
  replay_cmd->footer(R"(Examples:
  bazaarctl replay --topic order.events --from-offset 0:120 --to order.events.audit --dry-run
  bazaarctl replay --topic payment.events --since 2026-11-30T08:00:00Z --until 1h --to scratch)");
  replay_cmd->add_option("--topic", replay_args.topic, "The topic to read")->required();
  auto* from_offset_opt = replay_cmd->add_option("--from-offset", from_offset, "Start at P:O");
  replay_cmd->add_option("--since", replay_since, "Start at a time")->excludes(from_offset_opt);
  replay_cmd->add_option("--until", until, "Stop before this time");
  replay_cmd->add_option("--type", replay_type, "Only this ce_type");
  replay_cmd->add_option("--to", replay_args.to, "The topic to copy to (it must exist)")
      ->required();
  replay_cmd->add_flag("--dry-run", replay_args.dry_run, "Count and preview only");

  // saga
  auto* saga = app.add_subcommand("saga", "One order's saga");
  saga->require_subcommand(1);
  std::string order_id;
  auto* saga_show_cmd = saga->add_subcommand("show", "Every record of one order, as a timeline");
  saga_show_cmd->footer(
      "Example: bazaarctl saga show 0190f5c2-7a1b-7c3d-8e4f-123456789abc -o json");
  saga_show_cmd->add_option("order", order_id, "The order id")->required()->transform(kOrderId);
  std::string whatif_order, whatif_since;
  auto* whatif_cmd = saga->add_subcommand(
      "whatif", "Replay recorded inputs through this build's saga and diff what it would send");
  whatif_cmd->footer(
      R"(Each order's placement as recorded, then its commands and replies in time order and
the deadlines the scanner took, through this build's pure decision function; what it
would send for each input is compared with what the order service sent then. Exits 1
when some order would be treated differently: run it before a deploy or a redrive.
Examples:
  bazaarctl saga whatif
  bazaarctl saga whatif --order 0190f5c2-7a1b-7c3d-8e4f-123456789abc -o json)");
  whatif_cmd->add_option("--order", whatif_order, "Only this order")->transform(kOrderId);
  whatif_cmd->add_option("--since", whatif_since, "Only records from this time on");

  // audit
  AuditArgs audit_args;
  std::string audit_since;
  int settle_s = 60;
  auto* audit_cmd = app.add_subcommand(
      "audit", "Check the invariants of DESIGN.md from the *.events topics alone");
  audit_cmd->footer(
      R"(Checks: every placed order has one terminal outcome (or is younger than --settle);
stock conserved in every stock level (on_hand = available + reserved + sold, none
negative); charged - refunded equals the total of a confirmed order and 0 otherwise;
one ce_id never carries two payloads. Exits 1 on any violation, naming its records.
Examples:
  bazaarctl audit
  bazaarctl audit --since 1d --settle 120 -o json)");
  audit_cmd->add_option("--since", audit_since, "Only records from this time on");
  audit_cmd->add_option("--settle", settle_s, "Orders younger than this many seconds may be open")
      ->check(CLI::Range(0, 86'400));

  // lag
  std::string lag_group;
  auto* lag_cmd = app.add_subcommand("lag", "Consumer groups: state, members, lag per topic");
  lag_cmd->footer("Examples:\n  bazaarctl lag\n  bazaarctl lag --group order -o json");
  lag_cmd->add_option("--group", lag_group, "Only this consumer group")->check(kNonEmpty);

  // projection
  auto* projection = app.add_subcommand("projection", "Read models kept by consumer groups");
  projection->require_subcommand(1);
  std::string rebuild_group;
  std::vector<std::string> rebuild_topics;
  auto* rebuild_cmd = projection->add_subcommand(
      "rebuild", "Reset a read model's consumer group to the beginning of its topics");
  rebuild_cmd->footer(
      R"(The group must have no live members: stop its service first. Then empty the read
model's tables and the group's inbox rows in the service's database (DELETE FROM inbox
WHERE consumer = '<group>': the inbox would skip every event as seen) and start the
service again; it rebuilds the model from the events.
Example:
  bazaarctl projection rebuild edge-catalog)");
  rebuild_cmd->add_option("group", rebuild_group, "The consumer group")->required();
  rebuild_cmd->add_option("--topic", rebuild_topics,
                          "Only these topics (default: every topic it has read)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Usage errors end like every other bad input: one line and code 2, naming an unknown
    // command rather than saying that one is required.
    std::string what = e.what();
    if (argc > 1 && argv[1][0] != '-' &&
        app.get_subcommands([&](const CLI::App* sub) { return sub->get_name() == argv[1]; })
            .empty()) {
      what = std::string("unknown command ") + argv[1];
    }
    std::cerr << "bazaarctl: " << what << " (bazaarctl --help lists the commands)\n";
    return kBadInput;
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const Context ctx{brokers,
                    std::chrono::milliseconds{timeout_ms},
                    output == "json" ? Output::json : Output::table,
                    std::cout,
                    std::cerr,
                    &g_stop,
                    replication};
  auto opt = [](const std::string& s) {
    return s.empty() ? std::nullopt : std::optional<std::string>(s);
  };
  try {
    if (*tail_cmd) {
      tail_args.filter.type = opt(type);
      tail_args.filter.correlation = opt(correlation);
      tail_args.filter.subject = opt(subject);
      tail_args.since = opt(since);
      return tail(ctx, tail_args);
    }
    if (*export_cmd) {
      export_args.filter.type = opt(export_type);
      export_args.since = opt(export_since);
      export_args.until = opt(export_until);
      export_args.out = opt(export_out);
      return export_records(ctx, export_args);
    }
    dlq_args.group = opt(group);
    dlq_args.reason = opt(reason);
    dlq_args.type = opt(dlq_type);
    dlq_args.since = opt(dlq_since);
    if (*dlq_list_cmd) return dlq_list(ctx, dlq_args);
    if (*dlq_show_cmd) return dlq_show(ctx, dlq_args);
    if (*dlq_redrive_cmd) return dlq_redrive(ctx, dlq_args);
    if (*replay_cmd) {
      replay_args.from_offset = opt(from_offset);
      replay_args.since = opt(replay_since);
      replay_args.until = opt(until);
      replay_args.type = opt(replay_type);
      return replay(ctx, replay_args);
    }
    if (*saga_show_cmd) return saga_show(ctx, order_id);
    if (*whatif_cmd) return saga_whatif(ctx, opt(whatif_order), opt(whatif_since));
    if (*lag_cmd) return lag(ctx, opt(lag_group));
    if (*rebuild_cmd) return projection_rebuild(ctx, rebuild_group, rebuild_topics);
    if (*audit_cmd) {
      audit_args.since = opt(audit_since);
      audit_args.settle = std::chrono::seconds{settle_s};
      return audit(ctx, audit_args);
    }
  } catch (const std::exception& e) {
    std::cerr << "bazaarctl: " << e.what() << "\n";
    return kUnreachable;
  }
  return kBadInput;
}
