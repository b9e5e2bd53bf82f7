#include "commands.hpp"

#include <boost/json/serialize.hpp>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <tuple>

#include "audit.hpp"
#include "contracts/contracts.hpp"
#include "dead_letters.hpp"
#include "events/kafka_client.hpp"
#include "events/producer.hpp"
#include "kafka_admin.hpp"
#include "timeline.hpp"
#include "topic_reader.hpp"
#include "whatif.hpp"

namespace bazaar::ctl {
namespace {

int fail(const Context& ctx, const events::Error& e) {
  ctx.err << "bazaarctl: " << e.message << "\n";
  if (e.code == "broker_unreachable" || e.code == "read_failed" || e.code == "timeout" ||
      e.code == "kafka") {
    return kUnreachable;
  }
  if (e.code == "group_active") return kRefused;
  return kBadInput;
}

std::string now_text() {
  return events::format_rfc3339(std::chrono::system_clock::now());
}

void print(const Context& ctx, const Record& r) {
  if (ctx.output == Output::json) {
    ctx.out << boost::json::serialize(record_json(r)) << "\n";
  } else {
    ctx.out << table_line(r) << "\n";
  }
  ctx.out.flush();
}

// The topics a name stands for: itself (which must exist), or for `all` every topic but
// identity.otp, whose records hold one-time codes and phone numbers: it is read only by name.
events::Result<std::vector<std::string>> resolve_topics(TopicReader& reader,
                                                        const std::string& name) {
  auto known = reader.topics();
  if (!known) return known.error();
  if (name == "all") {
    std::vector<std::string> topics;
    for (auto& t : known.value()) {
      if (t != contracts::topic::kIdentityOtp) topics.push_back(std::move(t));
    }
    return topics;
  }
  for (const auto& t : known.value()) {
    if (t == name) return std::vector<std::string>{name};
  }
  return events::Error{"unknown_topic",
                       "no topic " + name + " (bazaarctl tail all lists every topic's records)"};
}

// Reads every dead letter of `group` (or of every group).
events::Result<std::vector<DeadLetter>> read_dead_letters(TopicReader& reader,
                                                          const std::optional<std::string>& group) {
  auto known = reader.topics();
  if (!known) return known.error();
  std::vector<std::string> topics;
  for (const auto& t : known.value()) {
    if (!t.starts_with("dlq.") || t.ends_with(".redriven")) continue;
    if (group && t != "dlq." + *group) continue;
    topics.push_back(t);
  }
  if (group && topics.empty()) {
    return events::Error{"unknown_group", "no dead-letter topic dlq." + *group + " (is " + *group +
                                              " a consumer group that dead-lettered something?)"};
  }
  std::vector<DeadLetter> letters;
  if (topics.empty()) return letters;
  ReadPlan plan;
  plan.topics = topics;
  auto read = reader.read(plan, [&](const Record& r) {
    if (auto d = dead_letter_of(r)) {
      if (d->group.empty()) d->group = r.topic.substr(4);
      letters.push_back(std::move(*d));
    }
    return true;
  });
  if (!read) return read.error();
  return letters;
}

// where() of every dead letter of `group` already redriven, from its audit topic.
events::Result<std::set<std::string>> read_redriven(TopicReader& reader, const std::string& group) {
  std::set<std::string> done;
  auto known = reader.topics();
  if (!known) return known.error();
  const std::string topic = redrive_topic(group);
  if (std::find(known.value().begin(), known.value().end(), topic) == known.value().end()) {
    return done;
  }
  ReadPlan plan;
  plan.topics = {topic};
  auto read = reader.read(plan, [&](const Record& r) {
    done.insert(redriven_dead_letter(r));
    return true;
  });
  if (!read) return read.error();
  return done;
}

// Starts `plan` at `since` and ends it before `until`, when given (15m, 2h, RFC 3339).
events::Result<void> apply_window(ReadPlan& plan, const std::optional<std::string>& since,
                                  const std::optional<std::string>& until) {
  const auto now = std::chrono::system_clock::now();
  if (since) {
    const auto t = parse_time(*since, now);
    if (!t) return t.error();
    plan.from = ReadPlan::From::time;
    plan.since_ms = t.value();
  }
  if (until) {
    const auto t = parse_time(*until, now);
    if (!t) return t.error();
    plan.until_ms = t.value();
  }
  return {};
}

bool selected(const DeadLetter& d, const DlqArgs& args, const std::optional<std::int64_t>& since) {
  if (!args.offsets.empty()) {
    bool any = false;
    for (const auto& text : args.offsets) {
      const auto at = parse_partition_offset(text);
      if (at.ok() && at.value().offset == d.record.offset &&
          (!at.value().partition || *at.value().partition == d.record.partition)) {
        any = true;
      }
    }
    if (!any) return false;
  }
  if (args.reason && d.reason != *args.reason) return false;
  if (args.type && !(d.record.event && type_matches(d.record.event->type, *args.type))) {
    return false;
  }
  if (since && d.record.timestamp_ms < *since) return false;
  return true;
}

}  // namespace

int tail(const Context& ctx, const TailArgs& args) {
  TopicReader reader(ctx.brokers, ctx.timeout);
  auto topics = resolve_topics(reader, args.topic);
  if (!topics) return fail(ctx, topics.error());
  ReadPlan plan;
  plan.topics = topics.value();
  plan.follow = args.follow;
  plan.from = args.from_beginning ? ReadPlan::From::beginning : ReadPlan::From::end;
  if (args.since) {
    const auto since = parse_time(*args.since, std::chrono::system_clock::now());
    if (!since) return fail(ctx, since.error());
    plan.from = ReadPlan::From::time;
    plan.since_ms = since.value();
  }
  if (plan.from == ReadPlan::From::end && !plan.follow) {
    ctx.err << "bazaarctl: nothing to show: give --from-beginning, --since or --follow\n";
    return kBadInput;
  }
  auto read = reader.read(
      plan,
      [&](const Record& r) {
        if (args.filter.matches(r)) print(ctx, r);
        return true;
      },
      ctx.stop);
  if (!read) return fail(ctx, read.error());
  return kOk;
}

int export_records(const Context& ctx, const ExportArgs& args) {
  TopicReader reader(ctx.brokers, ctx.timeout);
  auto topics = resolve_topics(reader, args.topic);
  if (!topics) return fail(ctx, topics.error());
  ReadPlan plan;
  plan.topics = topics.value();
  if (auto window = apply_window(plan, args.since, args.until); !window) {
    return fail(ctx, window.error());
  }
  std::ofstream file;
  if (args.out) {
    file.open(*args.out, std::ios::out | std::ios::trunc);
    if (!file) {
      ctx.err << "bazaarctl: cannot write " << *args.out << "\n";
      return kBadInput;
    }
  }
  std::ostream& out = args.out ? file : ctx.out;
  const bool csv = args.format == "csv";
  if (csv) out << csv_header() << "\n";
  std::size_t written = 0;
  auto read = reader.read(plan, [&](const Record& r) {
    if (!args.filter.matches(r)) return true;
    out << (csv ? csv_row(r) : boost::json::serialize(record_json(r))) << "\n";
    ++written;
    return true;
  });
  if (!read) return fail(ctx, read.error());
  out.flush();
  if (args.out) {
    if (!file) {
      ctx.err << "bazaarctl: writing " << *args.out << " failed\n";
      return kBadInput;
    }
    ctx.err << written << " records written to " << *args.out << "\n";
  }
  return kOk;
}

int dlq_list(const Context& ctx, const DlqArgs& args) {
  TopicReader reader(ctx.brokers, ctx.timeout);
  auto letters = read_dead_letters(reader, args.group);
  if (!letters) return fail(ctx, letters.error());
  std::set<std::string> redriven;
  std::set<std::string> groups;
  for (const auto& d : letters.value()) groups.insert(d.group);
  for (const auto& g : groups) {
    auto done = read_redriven(reader, g);
    if (!done) return fail(ctx, done.error());
    redriven.insert(done.value().begin(), done.value().end());
  }
  const auto failures = group_failures(letters.value(), redriven);
  if (ctx.output == Output::json) {
    boost::json::array out;
    for (const auto& f : failures) {
      out.push_back(boost::json::object{{"group", f.group},
                                        {"reason", f.reason},
                                        {"error", f.error},
                                        {"count", f.count},
                                        {"redriven", f.redriven},
                                        {"first_seen", f.first_seen},
                                        {"last_seen", f.last_seen},
                                        {"example", f.example}});
    }
    for (const auto& line : out) ctx.out << boost::json::serialize(line) << "\n";  // JSON Lines
    return kOk;
  }
  if (failures.empty()) {
    ctx.out << "no dead letters\n";
    return kOk;
  }
  for (const auto& f : failures) {
    ctx.out << f.group << "  " << f.reason << "  " << f.count << " dead letters (" << f.redriven
            << " redriven)  first " << f.first_seen << "  last " << f.last_seen << "\n    "
            << f.error << "\n    e.g. " << f.example << "\n";
  }
  return kOk;
}

int dlq_show(const Context& ctx, const DlqArgs& args) {
  TopicReader reader(ctx.brokers, ctx.timeout);
  auto letters = read_dead_letters(reader, args.group);
  if (!letters) return fail(ctx, letters.error());
  for (const auto& text : args.offsets) {
    if (const auto at = parse_partition_offset(text); !at) return fail(ctx, at.error());
  }
  std::size_t shown = 0;
  for (const auto& d : letters.value()) {
    if (!selected(d, args, std::nullopt)) continue;
    ++shown;
    if (ctx.output == Output::json) {
      print(ctx, d.record);
      continue;
    }
    ctx.out << d.record.where() << "  " << d.reason << ": " << d.error << "\n  original "
            << d.original_topic << "/" << d.original_partition << "@" << d.original_offset
            << "  failed " << d.failed_at
            << (d.payload_omitted ? "  (payload omitted: too large)" : "") << "\n  "
            << table_line(d.record) << "\n";
  }
  if (shown == 0) {
    ctx.err << "bazaarctl: no dead letter of " << *args.group << " matches\n";
    return kBadInput;
  }
  return kOk;
}

int dlq_redrive(const Context& ctx, const DlqArgs& args) {
  if (args.offsets.empty() && !args.reason && !args.type && !args.since) {
    ctx.err << "bazaarctl: say which dead letters: offsets, --reason, --type or --since\n";
    return kBadInput;
  }
  for (const auto& text : args.offsets) {
    if (const auto at = parse_partition_offset(text); !at) return fail(ctx, at.error());
  }
  std::optional<std::int64_t> since;
  if (args.since) {
    const auto t = parse_time(*args.since, std::chrono::system_clock::now());
    if (!t) return fail(ctx, t.error());
    since = t.value();
  }
  TopicReader reader(ctx.brokers, ctx.timeout);
  auto letters = read_dead_letters(reader, args.group);
  if (!letters) return fail(ctx, letters.error());
  auto redriven = read_redriven(reader, *args.group);
  if (!redriven) return fail(ctx, redriven.error());

  // In dead-letter order: one key's dead letters share a partition, so per key this is the
  // order they failed in, which is their original order.
  std::vector<const DeadLetter*> chosen;
  std::size_t skipped = 0;
  for (const auto& d : letters.value()) {
    if (!selected(d, args, since)) continue;
    if (!args.force && redriven.value().contains(d.record.where())) {
      ++skipped;
      continue;
    }
    chosen.push_back(&d);
  }
  // A parked record goes with the dead letter it waits behind (the latest one of its key
  // before it), unless that one was redriven already: only its redrive releases the key.
  auto same_key = [](const DeadLetter& a, const DeadLetter& b) {
    return a.record.key == b.record.key && a.original_topic == b.original_topic &&
           a.original_partition == b.original_partition;
  };
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    const DeadLetter* parked = chosen[i];
    if (parked->reason != "parked") continue;
    const DeadLetter* head = nullptr;
    for (const auto& d : letters.value()) {
      if (d.reason == "parked" || !same_key(d, *parked) ||
          d.original_offset > parked->original_offset) {
        continue;
      }
      if (head == nullptr || d.original_offset > head->original_offset) head = &d;
    }
    if (head != nullptr && !redriven.value().contains(head->record.where()) &&
        std::find(chosen.begin(), chosen.end(), head) == chosen.end()) {
      chosen.push_back(head);
    }
  }
  // Records parked behind a chosen dead letter (same key, later in its partition) go with it:
  // its redrive releases the key, and they follow in their original order.
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    const DeadLetter* head = chosen[i];
    if (head->reason == "parked") continue;
    for (const auto& d : letters.value()) {
      if (d.reason != "parked" || d.record.key != head->record.key ||
          d.original_topic != head->original_topic ||
          d.original_partition != head->original_partition ||
          d.original_offset < head->original_offset ||
          std::find(chosen.begin(), chosen.end(), &d) != chosen.end()) {
        continue;
      }
      if (!args.force && redriven.value().contains(d.record.where())) continue;
      chosen.push_back(&d);
    }
  }
  // In their original order: per key, the order they were first sent in.
  std::stable_sort(chosen.begin(), chosen.end(), [](const DeadLetter* a, const DeadLetter* b) {
    return std::tie(a->original_topic, a->original_partition, a->original_offset) <
           std::tie(b->original_topic, b->original_partition, b->original_offset);
  });
  // -o json: one object for the whole redrive, once it is done (or planned, with --dry-run).
  const auto summary = [&](std::size_t sent) {
    boost::json::array planned;
    for (const auto* d : chosen) {
      planned.push_back(boost::json::object{
          {"dead_letter", d->record.where()}, {"to", d->original_topic}, {"reason", d->reason}});
    }
    ctx.out << boost::json::serialize(boost::json::object{{"group", *args.group},
                                                          {"dry_run", args.dry_run},
                                                          {"selected", chosen.size()},
                                                          {"skipped_as_redriven", skipped},
                                                          {"redriven", sent},
                                                          {"dead_letters", std::move(planned)}})
            << "\n";
  };
  if (ctx.output != Output::json) {
    ctx.out << chosen.size() << " dead letters of " << *args.group << " to redrive";
    if (skipped > 0) ctx.out << " (" << skipped << " redriven before: --force sends them again)";
    ctx.out << "\n";
    for (const auto* d : chosen) {
      ctx.out << "  " << d->record.where() << " -> " << d->original_topic << "  " << d->reason
              << "  " << (d->record.event ? short_type(d->record.event->type) : "(raw)") << "\n";
    }
  }
  if (args.dry_run || chosen.empty()) {
    if (ctx.output == Output::json) summary(0);
    return kOk;
  }

  // The audit topic comes first: a redrive that cannot be recorded is not sent.
  if (auto made = events::ensure_topics(
          ctx.brokers, {{redrive_topic(*args.group), 1, ctx.replication_factor}}, ctx.timeout);
      !made) {
    return fail(ctx, {"broker_unreachable",
                      "creating " + redrive_topic(*args.group) + ": " + made.error().message});
  }
  events::Producer producer(ctx.brokers,
                            {{"message.timeout.ms", std::to_string(ctx.timeout.count())}});
  std::size_t sent = 0;
  for (const auto* d : chosen) {
    std::string value = d->record.value;
    if (d->payload_omitted) {
      // Too large to dead-letter whole: the original is still on its topic, if not expired.
      auto original = reader.fetch(d->original_topic, d->original_partition, d->original_offset);
      if (!original) {
        ctx.err << "bazaarctl: " << d->record.where() << ": " << original.error().message << "\n";
        return kBadInput;
      }
      value = original.value().value;
    }
    const std::string now = now_text();
    // The record first, then its audit entry: a crash between them redrives it again, which
    // the consumers' inbox absorbs; the other order could lose the redrive.
    const auto reports = producer.send({redrive_record(*d, value, now)}, ctx.timeout);
    if (!reports.front().delivered) {
      ctx.err << "bazaarctl: redriving " << d->record.where()
              << " failed: " << reports.front().error << " (" << sent << " redriven before it)\n";
      return kUnreachable;
    }
    const auto audit = producer.send({redrive_audit_record(*d, now)}, ctx.timeout);
    if (!audit.front().delivered) {
      ctx.err << "bazaarctl: recording the redrive of " << d->record.where()
              << " failed: " << audit.front().error << "\n";
      return kUnreachable;
    }
    ++sent;
  }
  if (ctx.output == Output::json) {
    summary(sent);
  } else {
    ctx.out << sent << " redriven\n";
  }
  return kOk;
}

int replay(const Context& ctx, const ReplayArgs& args) {
  if (args.from_offset.has_value() == args.since.has_value()) {
    ctx.err << "bazaarctl: give exactly one of --from-offset P:O and --since TIME\n";
    return kBadInput;
  }
  TopicReader reader(ctx.brokers, ctx.timeout);
  auto known = reader.topics();
  if (!known) return fail(ctx, known.error());
  for (const auto* name : {&args.topic, &args.to}) {
    if (std::find(known.value().begin(), known.value().end(), *name) == known.value().end()) {
      return fail(ctx, {"unknown_topic", "no topic " + *name});
    }
  }
  ReadPlan plan;
  plan.topics = {args.topic};
  if (args.from_offset) {
    const auto at = parse_partition_offset(*args.from_offset);
    if (!at) return fail(ctx, at.error());
    if (!at.value().partition) {
      return fail(ctx, {"bad_offset", "--from-offset needs the partition too: P:O"});
    }
    plan.from = ReadPlan::From::offset;
    plan.partition = *at.value().partition;
    plan.offset = at.value().offset;
  }
  if (auto window = apply_window(plan, args.from_offset ? std::nullopt : args.since, args.until);
      !window) {
    return fail(ctx, window.error());
  }
  Filter filter;
  filter.type = args.type;
  std::vector<Record> slice;
  auto read = reader.read(plan, [&](const Record& r) {
    if (filter.matches(r)) slice.push_back(r);
    return true;
  });
  if (!read) return fail(ctx, read.error());
  // -o json: one object for the whole replay, once it is done (or planned, with --dry-run).
  const auto summary = [&](std::size_t copied) {
    ctx.out << boost::json::serialize(boost::json::object{{"topic", args.topic},
                                                          {"to", args.to},
                                                          {"dry_run", args.dry_run},
                                                          {"selected", slice.size()},
                                                          {"copied", copied}})
            << "\n";
  };
  if (ctx.output != Output::json) {
    ctx.out << slice.size() << " records of " << args.topic << " to copy to " << args.to << "\n";
    for (std::size_t i = 0; i < slice.size() && i < 5; ++i)
      ctx.out << "  " << table_line(slice[i]) << "\n";
    if (slice.size() > 5) ctx.out << "  ...\n";
  }
  if (args.dry_run || slice.empty()) {
    if (ctx.output == Output::json) summary(0);
    return kOk;
  }
  std::vector<events::OutgoingRecord> out;
  for (const auto& r : slice) {
    events::OutgoingRecord o{args.to, r.key, r.value, r.headers};
    o.headers.emplace_back("bazaar_replayed_from", r.where());
    out.push_back(std::move(o));
  }
  events::Producer producer(ctx.brokers,
                            {{"message.timeout.ms", std::to_string(ctx.timeout.count())}});
  std::size_t sent = 0;
  for (const auto& report : producer.send(out, ctx.timeout * 3)) sent += report.delivered ? 1 : 0;
  if (ctx.output == Output::json) {
    summary(sent);
  } else {
    ctx.out << sent << " copied\n";
  }
  return sent == out.size() ? kOk : kUnreachable;
}

int saga_show(const Context& ctx, const std::string& order_id) {
  TopicReader reader(ctx.brokers, ctx.timeout);
  auto known = reader.topics();
  if (!known) return fail(ctx, known.error());
  ReadPlan plan;
  for (const auto& t : known.value()) {
    if (t.ends_with(".events") || t.ends_with(".commands")) plan.topics.push_back(t);
  }
  std::vector<Record> records;
  auto read = reader.read(plan, [&](const Record& r) {
    if (concerns_order(r, order_id)) records.push_back(r);
    return true;
  });
  if (!read) return fail(ctx, read.error());
  if (records.empty()) {
    ctx.err << "bazaarctl: no record on any topic concerns order " << order_id << "\n";
    return kBadInput;
  }
  sort_timeline(records);
  if (ctx.output == Output::json) {
    for (const auto& line : timeline_json(records)) ctx.out << boost::json::serialize(line) << "\n";
  } else {
    ctx.out << render_timeline(order_id, records);
  }
  return kOk;
}

int saga_whatif(const Context& ctx, const std::optional<std::string>& order_id,
                const std::optional<std::string>& since) {
  TopicReader reader(ctx.brokers, ctx.timeout);
  auto known = reader.topics();
  if (!known) return fail(ctx, known.error());
  ReadPlan plan;
  for (const char* t : {contracts::topic::kOrderCommands, contracts::topic::kOrderEvents,
                        contracts::topic::kInventoryCommands, contracts::topic::kInventoryEvents,
                        contracts::topic::kPaymentCommands, contracts::topic::kPaymentEvents}) {
    if (std::find(known.value().begin(), known.value().end(), t) != known.value().end()) {
      plan.topics.emplace_back(t);
    }
  }
  if (since) {
    const auto t = parse_time(*since, std::chrono::system_clock::now());
    if (!t) return fail(ctx, t.error());
    plan.from = ReadPlan::From::time;
    plan.since_ms = t.value();
  }
  std::vector<Record> records;
  auto read = reader.read(plan, [&](const Record& r) {
    if (!order_id || concerns_order(r, *order_id)) records.push_back(r);
    return true;
  });
  if (!read) return fail(ctx, read.error());
  const WhatIfReport report = what_if(records, order::decide, order_id);
  if (order_id && report.orders == 0) {
    ctx.err << "bazaarctl: order " << *order_id << " was not placed in the records read\n";
    return kBadInput;
  }
  if (ctx.output == Output::json) {
    boost::json::array diffs;
    for (const auto& d : report.diffs) {
      boost::json::array recorded, would;
      for (const auto& t : d.recorded) recorded.emplace_back(t);
      for (const auto& t : d.would) would.emplace_back(t);
      diffs.push_back(boost::json::object{{"order_id", d.order_id},
                                          {"input", d.input},
                                          {"at", d.at},
                                          {"recorded", std::move(recorded)},
                                          {"would", std::move(would)}});
    }
    ctx.out << boost::json::serialize(boost::json::object{{"orders", report.orders},
                                                          {"inputs", report.inputs},
                                                          {"identical", report.identical()},
                                                          {"diffs", std::move(diffs)}})
            << "\n";
  } else {
    ctx.out << report.orders << " orders, " << report.inputs << " inputs replayed through this "
            << "build's saga: " << (report.identical() ? "identical" : "DIFFERENT") << "\n";
    auto names = [](const std::vector<std::string>& types) {
      std::string out;
      for (const auto& t : types) out += (out.empty() ? "" : ", ") + short_type(t);
      return out.empty() ? std::string("nothing") : out;
    };
    for (const auto& d : report.diffs) {
      ctx.out << "order " << d.order_id << " on " << short_type(d.input) << " (" << d.at
              << ")\n    recorded: " << names(d.recorded) << "\n    would:    " << names(d.would)
              << "\n";
    }
  }
  return report.identical() ? kOk : kFound;
}

int lag(const Context& ctx, const std::optional<std::string>& group) {
  KafkaAdmin admin(ctx.brokers, ctx.timeout);
  std::vector<std::string> names;
  if (group) {
    names.push_back(*group);
  } else {
    auto groups = admin.groups();
    if (!groups) return fail(ctx, groups.error());
    for (const auto& g : groups.value()) names.push_back(g.group);
  }
  boost::json::array json;
  for (const auto& name : names) {
    auto lagged = admin.lag(name);
    if (!lagged) return fail(ctx, lagged.error());
    const GroupLag& g = lagged.value();
    std::map<std::string, std::int64_t> per_topic;
    for (const auto& p : g.partitions) per_topic[p.topic] += p.lag;
    if (ctx.output == Output::json) {
      boost::json::array partitions;
      for (const auto& p : g.partitions) {
        partitions.push_back(boost::json::object{{"topic", p.topic},
                                                 {"partition", p.partition},
                                                 {"committed", p.committed},
                                                 {"end", p.end},
                                                 {"lag", p.lag}});
      }
      boost::json::array members;
      for (const auto& m : g.info.members) {
        members.push_back(boost::json::object{
            {"client_id", m.client_id}, {"host", m.host}, {"partitions", m.assignment.size()}});
      }
      json.push_back(boost::json::object{{"group", name},
                                         {"state", g.info.state},
                                         {"lag", g.total()},
                                         {"members", std::move(members)},
                                         {"partitions", std::move(partitions)}});
      continue;
    }
    ctx.out << name << "  " << g.info.state << "  " << g.info.members.size() << " members  lag "
            << g.total() << "\n";
    for (const auto& [topic, n] : per_topic) ctx.out << "    " << topic << "  lag " << n << "\n";
    for (const auto& m : g.info.members) {
      ctx.out << "    member " << m.client_id << " " << m.host << " (" << m.assignment.size()
              << " partitions)\n";
    }
  }
  if (ctx.output == Output::json) {
    for (const auto& line : json) ctx.out << boost::json::serialize(line) << "\n";  // JSON Lines
  }
  return kOk;
}

int projection_rebuild(const Context& ctx, const std::string& group,
                       const std::vector<std::string>& topics) {
  KafkaAdmin admin(ctx.brokers, ctx.timeout);
  // Only topics the group has read: resetting another would start it on a topic it never had.
  auto lagged = admin.lag(group);
  if (!lagged) return fail(ctx, lagged.error());
  std::vector<std::string> read;
  for (const auto& p : lagged.value().partitions) {
    if (std::find(read.begin(), read.end(), p.topic) == read.end()) read.push_back(p.topic);
  }
  if (read.empty()) {
    return fail(ctx, events::Error{"unknown_group", "consumer group " + group +
                                                        " has read no topic: nothing to rebuild"});
  }
  std::vector<std::string> chosen = topics.empty() ? read : topics;
  for (const auto& t : chosen) {
    if (std::find(read.begin(), read.end(), t) != read.end()) continue;
    std::string known;
    for (const auto& r : read) known += (known.empty() ? "" : ", ") + r;
    return fail(ctx, events::Error{"unknown_topic", "consumer group " + group + " has not read " +
                                                        t + " (it read " + known + ")"});
  }
  auto reset = admin.reset_to_beginning(group, chosen);
  if (!reset) {
    if (reset.error().code == "group_active") {
      ctx.err << "bazaarctl: " << reset.error().message
              << "; stop the service that reads with it first, then rebuild, then start it\n";
      return kRefused;
    }
    return fail(ctx, reset.error());
  }
  if (ctx.output == Output::json) {
    boost::json::array reset_topics;
    for (const auto& t : chosen) reset_topics.emplace_back(t);
    ctx.out << boost::json::serialize(boost::json::object{{"group", group},
                                                          {"partitions", reset.value()},
                                                          {"topics", std::move(reset_topics)}})
            << "\n";
    return kOk;
  }
  ctx.out << group << " reset to the beginning of " << reset.value() << " partitions of";
  for (const auto& t : chosen) ctx.out << " " << t;
  ctx.out << "\nnow empty its read model and its inbox rows (DELETE FROM inbox WHERE consumer = '"
          << group << "'; the inbox would skip every event as seen) and start the service: it "
          << "rebuilds the model from the events\n";
  return kOk;
}

int audit(const Context& ctx, const AuditArgs& args) {
  TopicReader reader(ctx.brokers, ctx.timeout);
  auto known = reader.topics();
  if (!known) return fail(ctx, known.error());
  ReadPlan plan;
  for (const auto& t : known.value()) {
    if (t.ends_with(".events")) plan.topics.push_back(t);
  }
  if (args.since) {
    const auto since = parse_time(*args.since, std::chrono::system_clock::now());
    if (!since) return fail(ctx, since.error());
    plan.from = ReadPlan::From::time;
    plan.since_ms = since.value();
  }
  Auditor auditor(args.settle);
  const auto started = std::chrono::steady_clock::now();
  auto read = reader.read(plan, [&](const Record& r) {
    auditor.add(r);
    return true;
  });
  if (!read) return fail(ctx, read.error());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const AuditReport report = auditor.finish(std::chrono::system_clock::now());
  const double rate = seconds > 0 ? static_cast<double>(read.value()) / seconds : 0.0;
  if (ctx.output == Output::json) {
    boost::json::object out{{"ok", report.ok()},         {"records", read.value()},
                            {"events", report.events},   {"duplicates", report.duplicates},
                            {"orders", report.orders},   {"products", report.products},
                            {"pending", report.pending}, {"seconds", seconds}};
    boost::json::object checked;
    for (const auto& [name, n] : report.checked) checked[name] = n;
    out["checked"] = std::move(checked);
    boost::json::array violations;
    for (const auto& v : report.violations) {
      boost::json::array records;
      for (const auto& w : v.records) records.push_back(boost::json::value(w));
      violations.push_back(boost::json::object{{"invariant", v.invariant},
                                               {"subject", v.subject},
                                               {"detail", v.detail},
                                               {"records", std::move(records)}});
    }
    out["violations"] = std::move(violations);
    ctx.out << boost::json::serialize(out) << "\n";
  } else {
    ctx.out << "audited " << read.value() << " records of " << plan.topics.size() << " topics in "
            << seconds << " s (" << static_cast<long long>(rate) << " records/s): " << report.events
            << " events, " << report.duplicates << " repeated deliveries, " << report.orders
            << " orders (" << report.pending << " still inside " << args.settle.count() / 1000
            << " s), " << report.products << " products\n";
    for (const auto& [name, n] : report.checked) {
      std::size_t broken = 0;
      for (const auto& v : report.violations) broken += v.invariant == name ? 1U : 0U;
      ctx.out << "  " << name << ": " << n << " checked, " << broken << " violated\n";
    }
    for (const auto& v : report.violations) {
      ctx.out << "VIOLATION " << v.invariant << " " << v.subject << ": " << v.detail << "\n";
      for (const auto& w : v.records) ctx.out << "    " << w << "\n";
    }
  }
  return report.ok() ? kOk : kFound;
}

}  // namespace bazaar::ctl
