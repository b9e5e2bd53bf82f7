#include "asyncapi_writer.hpp"

#include <boost/json/array.hpp>
#include <cctype>

#include "yaml_writer.hpp"

namespace bazaar::tools {
namespace {

namespace json = boost::json;

constexpr const char* kKafkaBinding = "0.5.0";

// A name usable as a component or channel id: letters and digits only, each word capitalised.
std::string id_of(const std::string& text) {
  std::string out;
  bool upper = true;
  for (const char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) {
      upper = true;
      continue;
    }
    out.push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
    upper = false;
  }
  return out;
}

std::string message_id(const std::string& type) {
  return id_of(
      type.substr(type.find('.') + 1));  // bazaar.order.OrderPlaced.v1 -> OrderOrderPlacedV1
}

json::object string_schema(const std::string& description) {
  return {{"type", "string"}, {"description", description}};
}

json::object cloud_event_headers() {
  json::object properties{
      {"ce_specversion",
       json::object{{"type", "string"}, {"const", "1.0"}, {"description", "CloudEvents version"}}},
      {"ce_id", string_schema("Event id, a UUIDv7; the same id twice is one event")},
      {"ce_source", string_schema("The service that sent it: /bazaar/<service>")},
      {"ce_type", string_schema("The event type: bazaar.<domain>.<Event>.v<N>")},
      {"ce_time", json::object{{"type", "string"},
                               {"format", "date-time"},
                               {"description", "When it happened, RFC 3339 UTC"}}},
      {"ce_subject", string_schema("The aggregate id; also the record key")},
      {"ce_correlationid", string_schema("The saga (order) id it belongs to")},
      {"ce_causationid", string_schema("The ce_id of the event that caused it")},
      {"traceparent", string_schema("W3C trace context")},
      {"content-type", json::object{{"type", "string"}, {"const", "application/json"}}},
  };
  return {{"type", "object"},
          {"description", "CloudEvents 1.0 attributes in Kafka binary mode: record headers"},
          {"required", json::array{"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time",
                                   "content-type"}},
          {"properties", std::move(properties)}};
}

// The payload schema as AsyncAPI reads it: draft-07 without the file's own identifiers.
json::object payload_schema(json::object schema) {
  schema.erase("$schema");
  schema.erase("$id");
  schema.erase("x-bazaar-topic");
  return schema;
}

}  // namespace

std::string asyncapi_yaml(const std::vector<AsyncTopic>& topics,
                          const std::vector<AsyncMessage>& messages) {
  json::object channels;
  json::object operations;
  json::object component_messages;
  json::object schemas{{"CloudEventHeaders", cloud_event_headers()}};

  for (const auto& m : messages) {
    const std::string id = message_id(m.type);
    const auto* title = m.schema.if_contains("title");
    const auto* description = m.schema.if_contains("description");
    json::object message{
        {"name", m.type},
        {"title", title != nullptr ? *title : json::value(m.type)},
        {"contentType", "application/json"},
        {"headers", json::object{{"$ref", "#/components/schemas/CloudEventHeaders"}}},
        {"payload", json::object{{"$ref", "#/components/schemas/" + id}}},
        {"bindings",
         json::object{
             {"kafka", json::object{{"key", json::object{{"type", "string"},
                                                         {"description",
                                                          "The aggregate id, as ce_subject"}}},
                                    {"bindingVersion", kKafkaBinding}}}}}};
    if (description != nullptr) message["summary"] = *description;
    if (m.example) {
      message["examples"] = json::array{json::object{{"name", "sample"}, {"payload", *m.example}}};
    }
    component_messages[id] = std::move(message);
    schemas[id] = payload_schema(m.schema);
  }

  for (const auto& t : topics) {
    const std::string id = id_of(t.name);
    json::object channel_messages;
    json::array operation_messages;
    for (const auto& m : messages) {
      if (m.topic != t.name) continue;
      const std::string mid = message_id(m.type);
      channel_messages[mid] = json::object{{"$ref", "#/components/messages/" + mid}};
      operation_messages.push_back(json::object{{"$ref", "#/channels/" + id + "/messages/" + mid}});
    }
    if (channel_messages.empty()) continue;  // a topic with no schema yet is not described
    json::object channel{
        {"address", t.name},
        {"messages", std::move(channel_messages)},
        {"bindings", json::object{{"kafka", json::object{{"topic", t.name},
                                                         {"partitions", t.partitions},
                                                         {"bindingVersion", kKafkaBinding}}}}}};
    channel["description"] = t.comment.empty()
                                 ? "Key: the aggregate id, so one aggregate's events stay in order."
                                 : t.comment;
    channels[id] = std::move(channel);
    operations["receive" + id] =
        json::object{{"action", "receive"},
                     {"summary", "Consume " + t.name},
                     {"channel", json::object{{"$ref", "#/channels/" + id}}},
                     {"messages", std::move(operation_messages)}};
  }

  // Dead letters: any record a consumer group could not apply, with why and where it was.
  json::object dlq_headers{
      {"dlq_reason", json::object{{"type", "string"},
                                  {"enum", json::array{"undecodable", "schema_violation",
                                                       "rejected", "handler_error", "parked"}}}},
      {"dlq_error", string_schema("What went wrong, without the record's values")},
      {"dlq_original_topic", string_schema("Where the record was")},
      {"dlq_original_partition", string_schema("Its partition")},
      {"dlq_original_offset", string_schema("Its offset")},
      {"dlq_consumer_group", string_schema("The group that could not apply it")},
      {"dlq_failed_at", json::object{{"type", "string"}, {"format", "date-time"}}},
      {"dlq_payload_omitted", string_schema("true when the payload was too large to copy")},
      {"dlq_payload_bytes", string_schema("The original payload's size when omitted")}};
  component_messages["DeadLetter"] = json::object{
      {"name", "dead-letter"},
      {"title", "Dead letter"},
      {"summary",
       "The original record (key, headers and value) of a record a consumer group could not "
       "apply, plus dlq_* headers. A payload too large for the topic is replaced by a reference "
       "{dlq_payload_omitted, topic, partition, offset, size}."},
      {"headers",
       json::object{{"type", "object"},
                    {"required", json::array{"dlq_reason", "dlq_original_topic",
                                             "dlq_original_partition", "dlq_original_offset"}},
                    {"properties", std::move(dlq_headers)}}},
      {"payload", json::object{{"description", "The original value, as it was"}}}};
  channels["DeadLetters"] = json::object{
      {"address", "dlq.{group}"},
      {"description",
       "One dead-letter topic per consumer group; bazaarctl dlq reads and "
       "redrives them, and records each redrive on dlq.<group>.redriven."},
      {"parameters",
       json::object{{"group", json::object{{"description", "The consumer group, e.g. order"}}}}},
      {"messages",
       json::object{{"DeadLetter", json::object{{"$ref", "#/components/messages/DeadLetter"}}}}}};
  operations["receiveDeadLetters"] = json::object{
      {"action", "receive"},
      {"summary", "Inspect dead letters"},
      {"channel", json::object{{"$ref", "#/channels/DeadLetters"}}},
      {"messages",
       json::array{json::object{{"$ref", "#/channels/DeadLetters/messages/DeadLetter"}}}}};

  const json::object doc{
      {"asyncapi", "3.0.0"},
      {"info",
       json::object{
           {"title", "bazaar events"},
           {"version", "1.0.0"},
           {"description",
            "The Kafka topics of bazaar. Every message is a CloudEvents 1.0 event in Kafka "
            "binary mode: ce_* record headers and a JSON value. Keys are aggregate ids, so one "
            "aggregate's events stay in order. Consumers ignore fields they do not know; a "
            "breaking change is a new .vN type. Generated from schemas/ by the build: do not "
            "edit."}}},
      {"defaultContentType", "application/json"},
      {"servers",
       json::object{{"local", json::object{{"host", "127.0.0.1:19092"},
                                           {"protocol", "kafka"},
                                           {"description", "The broker scripts/run starts"}}}}},
      {"channels", std::move(channels)},
      {"operations", std::move(operations)},
      {"components",
       json::object{{"messages", std::move(component_messages)}, {"schemas", std::move(schemas)}}}};
  return "# Generated by bazaar-contracts-gen from schemas/*.json, schemas/topics.tsv and\n"
         "# schemas/samples/ on every build: edit those, never this file.\n" +
         to_yaml(doc);
}

}  // namespace bazaar::tools
