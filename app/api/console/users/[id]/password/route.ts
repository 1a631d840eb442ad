export { resetUserPassword as POST } from "@/lib/console/users";
