export { listRequests as GET } from "@/lib/control-plane/console/requests";
