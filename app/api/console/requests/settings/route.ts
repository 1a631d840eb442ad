export { getRequestLogSettings as GET, putRequestLogSettings as PUT } from "@/lib/control-plane/console/requests";
