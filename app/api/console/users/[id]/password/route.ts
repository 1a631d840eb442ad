export { resetUserPassword as POST } from "@/lib/control-plane/console/users";
