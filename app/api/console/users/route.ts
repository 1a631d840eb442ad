export { listUsers as GET, createUserHandler as POST } from "@/lib/control-plane/console/users";
