// POST /v1/messages — Anthropic's Messages API served by the chat pipeline: the request is
// validated here and asked in chat form; the answer is told back as a Message or its stream.
import type { Endpoint, Presentation } from "../presentation";
import { parseRequestBody } from "../schema";
import { chatToMessage, type ChatCompletion } from "./from-chat";
import { messagesRequest } from "./schema";
import { MessagesStreamEncoder } from "./stream";
import { messagesToChat } from "./to-chat";

const messagesPresentation: Presentation = {
  json: (payload) => JSON.stringify(chatToMessage(JSON.parse(payload) as ChatCompletion)),
  stream: () => new MessagesStreamEncoder(),
};

export const messagesEndpoint: Endpoint = {
  name: "messages",
  parse: (body) => ({ upstream: messagesToChat(parseRequestBody(messagesRequest, body)), presentation: messagesPresentation }),
};
